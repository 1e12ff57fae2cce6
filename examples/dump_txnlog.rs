//! Prints the txns of a ZooKeeper / FerroKeeper transaction log, one a line.
//!
//! ```text
//! dump_txnlog DIR [--after ZXID] [--truncate-torn-tail]
//! ```
//!
//! DIR is the `version-2` directory, or a dataLogDir that contains one.
//! Each line: `session 0x.. cxid 0x.. zxid 0x.. <op> <txn> [digest v:0x..]`,
//! with session/cxid/zxid printed as ZooKeeper's TxnLogToolkit prints them
//! (`Long.toHexString`). The last line on stdout is `N txns`.
//!
//! Exit status: 0 all read; 1 error (corruption, I/O: message on stderr,
//! naming file and offset); 2 usage; 3 a torn tail was found (strict mode;
//! with --truncate-torn-tail it is cut and the status is 0).
//!
//! The printing is [`ferrokeeper::persist::inspect::log::dump_lines`];
//! `ferrokeeper log-dump` is the readable variant.

use std::path::PathBuf;
use std::process::ExitCode;

use ferrokeeper::persist::inspect::{log, parse_zxid};
use ferrokeeper::persist::txnlog::RecoveryMode;

fn usage() -> ExitCode {
    eprintln!("usage: dump_txnlog DIR [--after ZXID] [--truncate-torn-tail]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut dir = None;
    let mut after = 0i64;
    let mut mode = RecoveryMode::Strict;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--after" => match args.next().as_deref().and_then(parse_zxid) {
                Some(z) => after = z,
                None => return usage(),
            },
            "--truncate-torn-tail" => mode = RecoveryMode::TruncateTornTail,
            _ if dir.is_none() && !a.starts_with("--") => dir = Some(PathBuf::from(a)),
            _ => return usage(),
        }
    }
    let Some(dir) = dir else { return usage() };
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    match log::dump_lines(
        "dump_txnlog",
        &dir,
        after,
        mode,
        &mut stdout.lock(),
        &mut stderr.lock(),
    ) {
        Ok(status) => ExitCode::from(status.exit_code()),
        Err(e) => {
            eprintln!("dump_txnlog: writing the output: {e}");
            ExitCode::from(1)
        }
    }
}
