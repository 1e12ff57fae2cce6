//! `ferrokeeper [zoo.cfg]`: a standalone ZooKeeper-compatible server.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tracing::{error, info, warn};

use ferrokeeper::server::{self, Settings};

/// A drop-in Apache ZooKeeper server.
#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Args {
    /// An Apache ZooKeeper zoo.cfg; without one the server runs on
    /// 127.0.0.1:2181 with data under ./data.
    config: Option<PathBuf>,
    /// The same, as a flag.
    #[arg(long = "config", value_name = "FILE", conflicts_with = "config")]
    config_flag: Option<PathBuf>,
    #[command(subcommand)]
    tool: Option<Tool>,
}

/// Offline tools for a data directory (the server need not run).
#[derive(clap::Subcommand, Debug)]
enum Tool {
    /// Deletes old snapshots and txn logs, keeping the newest COUNT
    /// snapshots and the logs they need (zkCleanup.sh / PurgeTxnLog).
    Purge {
        /// dataLogDir (the directory holding version-2/log.*).
        data_log_dir: PathBuf,
        /// dataDir (version-2/snapshot.*); defaults to dataLogDir.
        snap_dir: Option<PathBuf>,
        /// Snapshots to keep, at least 3.
        #[arg(short = 'n', long = "count", default_value_t = 3)]
        count: usize,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("FERROKEEPER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

fn main() -> ExitCode {
    let args = Args::parse();
    init_logging();
    if let Some(tool) = args.tool {
        return match ferrokeeper_tools::run(tool) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ferrokeeper: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let settings = match args.config.or(args.config_flag) {
        None => Settings::standalone_default(),
        Some(path) => {
            let props = ferrokeeper::config::SystemProperties::from_env();
            let cfg = match ferrokeeper::config::ServerConfig::from_file_with(&path, props) {
                Ok(c) => c,
                Err(e) => {
                    error!("{e}");
                    eprintln!("ferrokeeper: {e}");
                    return ExitCode::from(2);
                }
            };
            for w in &cfg.warnings {
                warn!("{w}");
            }
            for (key, line) in cfg.ignored_keys() {
                warn!(
                    "{}:{line}: {key} is accepted but not acted on yet",
                    path.display()
                );
            }
            if cfg.is_quorum() {
                warn!("server.N entries found: quorum mode is not implemented yet; serving standalone");
            }
            match Settings::from_config(&cfg) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("ferrokeeper: {e}");
                    return ExitCode::from(2);
                }
            }
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ferrokeeper: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let running = match server::start(settings).await {
            Ok(r) => r,
            Err(e) => {
                error!("{e}");
                eprintln!("ferrokeeper: {e}");
                return ExitCode::FAILURE;
            }
        };
        info!(address = %running.local_addr, "serving clients");
        tokio::select! {
            _ = running.wait() => ExitCode::FAILURE,
            _ = shutdown_signal() => {
                info!("shutting down");
                ExitCode::SUCCESS
            }
        }
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

mod ferrokeeper_tools {
    //! The offline subcommands.
    use super::Tool;
    use ferrokeeper::persist::{files, purge};

    pub fn run(tool: Tool) -> Result<(), String> {
        match tool {
            Tool::Purge {
                data_log_dir,
                snap_dir,
                count,
            } => {
                let log_dir = data_log_dir.join(files::VERSION_DIR);
                let snap_dir = snap_dir.unwrap_or(data_log_dir).join(files::VERSION_DIR);
                let snaps = ferrokeeper::persist::valid_snapshots_newest_first(&snap_dir)
                    .map_err(|e| e.to_string())?;
                let purged =
                    purge::purge(&log_dir, &snap_dir, &snaps, count).map_err(|e| e.to_string())?;
                println!(
                    "removed {} snapshot(s) and {} log file(s)",
                    purged.snapshots.len(),
                    purged.logs.len()
                );
                Ok(())
            }
        }
    }
}
