//! The AdminServer: ZooKeeper 3.8's Jetty `JettyAdminServer` over HTTP.
//!
//! `GET <commandURL>/<name>` runs a command and answers its JSON
//! (`application/json`, 200 even when the reply carries an error, as Java
//! does); `GET <commandURL>` or `<commandURL>/` lists links to every
//! command. HEAD answers the same without a body; TRACE is refused with 403
//! (ZooKeeper's `constrainTraceMethod`), other methods get the servlet's 405
//! and paths outside `<commandURL>` Jetty's 404 page.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::commands::{self, primary_name};
use super::http::{self, Body};
use super::json::to_jackson_pretty;
use crate::pipeline::{AdminQuery, CoreMsg};

/// `Commands.runCommand`'s answer when the server is not running.
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests";

/// Where and how the AdminServer runs (`admin.*` in zoo.cfg).
#[derive(Debug, Clone)]
pub struct AdminServerSettings {
    /// `admin.serverAddress`.
    pub address: String,
    /// `admin.serverPort`.
    pub port: u16,
    /// `admin.commandURL`.
    pub command_url: String,
    /// `admin.idleTimeout`.
    pub idle_timeout: Duration,
    /// The configuration file's text (`initial_configuration`); `None` when
    /// the server started without one.
    pub initial_config: Option<String>,
    /// Java system properties as ZooKeeper would have them
    /// (`system_properties`): the `-D` flags and zoo.cfg's `zookeeper.*`.
    pub system_properties: Vec<(String, String)>,
}

/// Why the AdminServer could not start. ZooKeeper exits with code 4
/// (`ERROR_STARTING_ADMIN_SERVER`) in this case, and so does `main`.
#[derive(Debug)]
pub struct AdminStartError(pub String);

impl std::fmt::Display for AdminStartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AdminStartError {}

struct Ctx {
    settings: AdminServerSettings,
    core: mpsc::Sender<CoreMsg>,
}

/// Binds the AdminServer and serves it on a task; returns the bound
/// address. A bind failure names the address, the port and the keys.
pub async fn start(
    settings: AdminServerSettings,
    core: mpsc::Sender<CoreMsg>,
    stop: tokio_util::sync::CancellationToken,
) -> std::io::Result<SocketAddr> {
    let listener = http::bind(&settings.address, settings.port)
        .await
        .map_err(|e| {
            std::io::Error::other(AdminStartError(format!(
                "Problem starting AdminServer on address {}, port {} and command URL {} \
                 (admin.serverAddress / admin.serverPort, or admin.enableServer=false to \
                 run without it): {e}",
                settings.address, settings.port, settings.command_url
            )))
        })?;
    let addr = listener.local_addr()?;
    let idle = settings.idle_timeout;
    let ctx = Arc::new(Ctx { settings, core });
    tokio::spawn(
        stop.run_until_cancelled_owned(http::serve(listener, idle, move |req| {
            let ctx = ctx.clone();
            async move { handle(&ctx, req).await }
        })),
    );
    Ok(addr)
}

async fn handle(ctx: &Ctx, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_string();
    let url = ctx.settings.command_url.as_str();
    // The servlet is mapped at `<commandURL>/*`: that path and below.
    let info = match path.strip_prefix(url) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => return http::error_page(StatusCode::NOT_FOUND, &path, "Not Found"),
    };
    let method = req.method();
    if method == Method::TRACE {
        return http::respond(StatusCode::FORBIDDEN, None, String::new());
    }
    if method == Method::OPTIONS {
        let mut r = http::respond(StatusCode::OK, None, String::new());
        r.headers_mut().insert(
            hyper::header::ALLOW,
            hyper::header::HeaderValue::from_static("GET, HEAD, TRACE, OPTIONS"),
        );
        return r;
    }
    if method != Method::GET && method != Method::HEAD {
        let known = [Method::POST, Method::PUT, Method::DELETE];
        return if known.contains(method) {
            let msg = format!("HTTP method {method} is not supported by this URL");
            http::error_page(StatusCode::METHOD_NOT_ALLOWED, &path, &msg)
        } else {
            let msg = format!("Method {method} is not implemented by this servlet for this URI");
            http::error_page(StatusCode::NOT_IMPLEMENTED, &path, &msg)
        };
    }
    if info.is_empty() || info == "/" {
        // Java sets no Content-Type on the links page.
        return http::respond(StatusCode::OK, None, commands::links_page(url));
    }
    let name = http::percent_decode(&info[1..]);
    // Like `request.getParameterMap()` → first value of each name.
    let mut args: Vec<(String, String)> = Vec::new();
    for (k, v) in http::query_pairs(req.uri().query()) {
        if !args.iter().any(|(seen, _)| *seen == k) {
            args.push((k, v));
        }
    }
    let reply = run(ctx, &name, args).await;
    http::respond(
        StatusCode::OK,
        Some("application/json"),
        to_jackson_pretty(&reply),
    )
}

/// The JSON reply to command `name`.
async fn run(ctx: &Ctx, name: &str, args: Vec<(String, String)>) -> Value {
    let Some(cmd) = primary_name(name) else {
        return commands::unknown(name);
    };
    if commands::is_static(cmd) {
        return commands::response(cmd, None, static_data(&ctx.settings, cmd));
    }
    let (tx, rx) = oneshot::channel();
    let query = AdminQuery::Command {
        cmd,
        args,
        reply: tx,
    };
    if ctx.core.send(CoreMsg::AdminQuery(query)).await.is_err() {
        return commands::response(cmd, Some(NOT_SERVING), Map::new());
    }
    match rx.await {
        Ok(data) => commands::response(cmd, None, data),
        Err(_) => commands::response(cmd, Some(NOT_SERVING), Map::new()),
    }
}

/// `initial_configuration` and `system_properties`: fixed at start.
fn static_data(s: &AdminServerSettings, cmd: &str) -> Map<String, Value> {
    let mut d = Map::new();
    if cmd == "initial_configuration" {
        let v = s.initial_config.clone().map_or(Value::Null, Value::String);
        d.insert("initial_configuration".into(), v);
    } else {
        let mut props = s.system_properties.clone();
        props.sort();
        for (k, v) in props {
            d.insert(k, Value::String(v));
        }
    }
    d
}
