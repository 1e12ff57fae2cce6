//! Putting the parts together: bind the client port, start the pipeline,
//! accept connections. Tests start servers the same way, on port 0.

use std::net::SocketAddr;

use tokio::task::JoinHandle;

use crate::net::{self, ConnLimits, Listener};
use crate::persist::MemTxnLog;
use crate::pipeline::{self, CoreConfig, ServerInfo};

/// Everything a standalone server needs, resolved from zoo.cfg.
#[derive(Debug, Clone)]
pub struct Settings {
    pub client_addr: SocketAddr,
    pub core: CoreConfig,
    pub limits: ConnLimits,
    pub info: ServerInfo,
}

impl Settings {
    /// The embedded default: 127.0.0.1:2181, tickTime 3000, every
    /// four-letter word ZooKeeper enables by default (srvr).
    pub fn standalone_default() -> Settings {
        Settings {
            client_addr: SocketAddr::from(([127, 0, 0, 1], 2181)),
            core: CoreConfig::default(),
            limits: ConnLimits::default(),
            info: ServerInfo {
                client_port: 2181,
                client_address: "127.0.0.1".into(),
                data_dir: "./data".into(),
                data_log_dir: "./data".into(),
                max_client_cnxns: 60,
                four_letter_words: vec!["srvr".into()],
                conf_text: String::new(),
            },
        }
    }
}

/// A started server.
pub struct RunningServer {
    pub local_addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl RunningServer {
    /// Stops accepting new connections.
    pub fn stop_accepting(&self) {
        self.accept.abort();
    }

    /// Waits for the accept loop to end (it ends only on abort).
    pub async fn wait(self) {
        let _ = self.accept.await;
    }
}

/// Binds and starts everything; returns once the port accepts connections.
pub async fn start(settings: Settings) -> std::io::Result<RunningServer> {
    let listener = Listener::bind(settings.client_addr).await?;
    let local_addr = listener.local_addr()?;
    let mut info = settings.info.clone();
    info.client_port = local_addr.port();
    let core = pipeline::spawn(settings.core.clone(), info, Box::new(MemTxnLog::new()));
    let accept = tokio::spawn(net::serve(listener, core, settings.limits.clone()));
    Ok(RunningServer { local_addr, accept })
}
