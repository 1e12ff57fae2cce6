//! Process lifecycle: exit codes a service manager can act on, and the
//! signals that stop the server.
//!
//! The exit codes are ZooKeeper's (`org.apache.zookeeper.server.ExitCode`
//! in 3.8.0), so that units and scripts written for ZooKeeper keep working:
//! 2 for a bad configuration (systemd's `RestartPreventExitStatus=2`: a
//! restart would fail the same way), 1 for anything unexpected.

use crate::server::StartError;

/// The process exit status, as ZooKeeper 3.8's `ExitCode` numbers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// `EXECUTION_FINISHED`: stopped by SIGTERM/SIGINT after a clean drain.
    Finished = 0,
    /// `UNEXPECTED_ERROR`: the client port could not be bound, the data
    /// could not be loaded, the txn log failed while serving, a second
    /// signal cut a shutdown short.
    UnexpectedError = 1,
    /// `INVALID_INVOCATION`: bad arguments or an invalid zoo.cfg
    /// (ZooKeeper's ConfigException).
    InvalidInvocation = 2,
    /// `UNABLE_TO_ACCESS_DATADIR`: dataDir/dataLogDir missing (with
    /// autocreate off) or not accessible.
    UnableToAccessDatadir = 3,
    /// `ERROR_STARTING_ADMIN_SERVER`: the HTTP AdminServer could not bind.
    ErrorStartingAdminServer = 4,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status for a server that failed to start.
    pub fn for_start_error(e: &StartError) -> ExitStatus {
        match e {
            StartError::Bind(_)
            | StartError::Recovery(_)
            | StartError::Metrics(_)
            | StartError::Threads(_) => ExitStatus::UnexpectedError,
            StartError::Admin(_) => ExitStatus::ErrorStartingAdminServer,
            StartError::DataDir(_) => ExitStatus::UnableToAccessDatadir,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> std::process::ExitCode {
        std::process::ExitCode::from(s.code())
    }
}

/// Which stop signal arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Terminate,
    Interrupt,
}

impl std::fmt::Display for StopSignal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StopSignal::Terminate => "SIGTERM",
            StopSignal::Interrupt => "SIGINT",
        })
    }
}

/// SIGTERM and SIGINT, as a stream: the first asks for a graceful
/// shutdown, a second one (while draining) for an immediate exit.
pub struct StopSignals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the handlers; from here on the signals no longer kill the
    /// process outright.
    pub fn install() -> std::io::Result<StopSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(StopSignals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(StopSignals {})
        }
    }

    /// Waits for the next stop signal.
    pub async fn next(&mut self) -> StopSignal {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => StopSignal::Terminate,
                _ = self.int.recv() => StopSignal::Interrupt,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            StopSignal::Interrupt
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_zookeepers() {
        // org.apache.zookeeper.server.ExitCode in 3.8.0.
        assert_eq!(ExitStatus::Finished.code(), 0);
        assert_eq!(ExitStatus::UnexpectedError.code(), 1);
        assert_eq!(ExitStatus::InvalidInvocation.code(), 2);
        assert_eq!(ExitStatus::UnableToAccessDatadir.code(), 3);
        assert_eq!(ExitStatus::ErrorStartingAdminServer.code(), 4);
    }

    #[test]
    fn start_errors_map_to_codes() {
        let io = || std::io::Error::other("x");
        assert_eq!(
            ExitStatus::for_start_error(&StartError::Bind(io())),
            ExitStatus::UnexpectedError
        );
        assert_eq!(
            ExitStatus::for_start_error(&StartError::DataDir(io())),
            ExitStatus::UnableToAccessDatadir
        );
        assert_eq!(
            ExitStatus::for_start_error(&StartError::Recovery(io())),
            ExitStatus::UnexpectedError
        );
    }
}
