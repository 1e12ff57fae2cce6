//! Prints a ZooKeeper snapshot as JSON lines, verifying its checksums and digest.
//!
//! ```text
//! dump_snapshot <snapshot file | version-2 directory>
//! ```
//! With a directory, the newest snapshot that fully verifies is dumped (older ones are
//! tried when a newer one fails, as ZooKeeper does) and every file passed over is listed.
//!
//! Output, one JSON object per line: `file`, `rejected`*, `session`*, `acl`*, `node`*
//! (root first, path ""), `trailer` (checksum, digest), `load` (the snapshot loaded into
//! a FerroKeeper tree: node count and how the stored digest compares with the tree's).
//! Exit status 1, with the error on stderr, if anything fails to decode or verify.
//!
//! The printing is [`ferrokeeper::persist::inspect::snap::dump_json`];
//! `ferrokeeper snapshot-dump` is the readable variant.

use std::path::Path;
use std::process::ExitCode;

use ferrokeeper::persist::inspect::snap;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [arg] = args.as_slice() else {
        eprintln!("usage: dump_snapshot <snapshot file | version-2 directory>");
        return ExitCode::from(2);
    };
    let stdout = std::io::stdout();
    match snap::dump_json(Path::new(arg), &mut stdout.lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dump_snapshot: {e}");
            ExitCode::FAILURE
        }
    }
}
