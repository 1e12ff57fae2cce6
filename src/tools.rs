//! The offline subcommands of the `ferrokeeper` binary: they work on a data
//! directory while no server runs (`check`, `log-dump` and `snapshot-dump`
//! only read; `purge` deletes old files).
//!
//! ```text
//! ferrokeeper log-dump FILE_OR_DIR [--after ZXID]   like zkTxnLogToolkit.sh
//! ferrokeeper snapshot-dump FILE_OR_DIR [--data]    like zkSnapShotToolkit.sh
//! ferrokeeper check DATADIR [DATALOGDIR]            verifies a data directory
//! ferrokeeper purge DATALOGDIR [SNAPDIR] [-n N]     like zkCleanup.sh
//! ```
//!
//! Exit status: 0 fine; 1 a problem (damage, I/O; the message names the
//! file and offset); 2 usage; 3 (`log-dump`) a torn tail.

use std::io::{self, Write};
use std::path::PathBuf;

use crate::persist::inspect::{self, DumpError};
use crate::persist::{files, purge};

/// Offline tools for a data directory (the server need not run).
#[derive(clap::Subcommand, Debug)]
pub enum Tool {
    /// Deletes old snapshots and txn logs (zkCleanup.sh).
    ///
    /// Keeps the newest COUNT valid snapshots and the logs they need, as
    /// ZooKeeper's PurgeTxnLog does.
    Purge {
        /// dataLogDir (the directory holding version-2/log.*).
        data_log_dir: PathBuf,
        /// dataDir (version-2/snapshot.*); defaults to dataLogDir.
        snap_dir: Option<PathBuf>,
        /// Snapshots to keep, at least 3.
        #[arg(short = 'n', long = "count", default_value_t = 3)]
        count: usize,
    },
    /// Prints txn log entries one a line (zkTxnLogToolkit.sh).
    ///
    /// Each line: time, session, cxid, zxid, type and the txn; before each
    /// file's first txn, the file and its header. Damage is reported with
    /// file and offset (exit 1; exit 3 for a torn tail); nothing is changed.
    LogDump {
        /// A log.<zxid> file, a version-2 directory, or a dataLogDir.
        file_or_dir: PathBuf,
        /// Only txns with a higher zxid (hex with 0x, or decimal).
        #[arg(long, value_name = "ZXID", value_parser = parse_zxid_arg)]
        after: Option<i64>,
    },
    /// Prints a snapshot (zkSnapShotToolkit.sh).
    ///
    /// The header, sessions, ACL cache, every node with its stat (and data
    /// with --data), then the checksums and digest, verified. Given a
    /// directory, the newest valid snapshot in it. Exit 1 if anything does
    /// not decode or verify, naming the file and offset.
    SnapshotDump {
        /// A snapshot.<zxid>[.gz|.snappy] file, a version-2 directory, or a dataDir.
        file: PathBuf,
        /// Also print each node's data (base64).
        #[arg(short = 'd', long = "data")]
        data: bool,
    },
    /// Verifies a data directory without changing it.
    ///
    /// Every snapshot and its seals (the newest valid one named), every log
    /// file's header, entries and checksums (a torn tail is reported, not
    /// cut), zxid continuity from the newest valid snapshot to the end of the
    /// logs. Prints a report; exit 1 on any problem.
    Check {
        /// dataDir (holding version-2/snapshot.*), or its version-2 directory.
        data_dir: PathBuf,
        /// dataLogDir (version-2/log.*); defaults to dataDir.
        data_log_dir: Option<PathBuf>,
    },
}

fn parse_zxid_arg(s: &str) -> Result<i64, String> {
    inspect::parse_zxid(s).ok_or_else(|| format!("{s:?} is not a zxid (0x<hex> or decimal)"))
}

/// Runs a tool; returns the process exit status. Output goes to stdout,
/// errors to stderr.
pub fn run(tool: Tool) -> u8 {
    let stdout = io::stdout();
    let stderr = io::stderr();
    let mut out = stdout.lock();
    let mut err = stderr.lock();
    let result = run_with(tool, &mut out, &mut err);
    let _ = out.flush();
    match result {
        Ok(code) => code,
        Err(e) => {
            if e.kind() != io::ErrorKind::BrokenPipe {
                let _ = writeln!(err, "ferrokeeper: writing the output: {e}");
            }
            1
        }
    }
}

/// [`run`] with the output streams given. `Err` only when writing them fails.
pub fn run_with(tool: Tool, out: &mut impl Write, err: &mut impl Write) -> io::Result<u8> {
    match tool {
        Tool::Purge {
            data_log_dir,
            snap_dir,
            count,
        } => {
            let log_dir = data_log_dir.join(files::VERSION_DIR);
            let snap_dir = snap_dir.unwrap_or(data_log_dir).join(files::VERSION_DIR);
            let purged = crate::persist::valid_snapshots_newest_first(&snap_dir)
                .and_then(|snaps| purge::purge(&log_dir, &snap_dir, &snaps, count));
            match purged {
                Ok(purged) => {
                    for p in purged.snapshots.iter().chain(&purged.logs) {
                        writeln!(out, "removed {}", p.display())?;
                    }
                    writeln!(
                        out,
                        "removed {} snapshot(s) and {} log file(s)",
                        purged.snapshots.len(),
                        purged.logs.len()
                    )?;
                    Ok(0)
                }
                Err(e) => {
                    writeln!(err, "ferrokeeper: {e}")?;
                    Ok(1)
                }
            }
        }
        Tool::LogDump { file_or_dir, after } => {
            inspect::log::dump_readable(&file_or_dir, after, out, err).map(|s| s.exit_code())
        }
        Tool::SnapshotDump { file, data } => match inspect::snap::dump_readable(&file, data, out) {
            Ok(()) => Ok(0),
            Err(DumpError::Output(e)) => Err(e),
            Err(DumpError::Data(msg)) => {
                out.flush()?;
                writeln!(err, "ferrokeeper: {msg}")?;
                Ok(1)
            }
        },
        Tool::Check {
            data_dir,
            data_log_dir,
        } => {
            let report = inspect::check::check(&data_dir, data_log_dir.as_deref());
            report.write(out)?;
            Ok(if report.problems() == 0 { 0 } else { 1 })
        }
    }
}
