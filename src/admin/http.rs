//! The small HTTP/1.1 server under the AdminServer and `/metrics`: hyper
//! serves each connection; this module binds, accepts, and has the pieces
//! both handlers share (Jetty-style error pages, query strings).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::debug;

pub type Body = Full<Bytes>;

/// Connections served at once; more wait in the accept queue. Jetty's
/// default pool has 200 threads; the admin endpoints see a few scrapers.
const MAX_CONNECTIONS: usize = 64;

/// Binds `host:port` (a name or an address, as Jetty accepts); a wildcard
/// (the default `0.0.0.0`) listens dual-stack, as Jetty on a JVM does.
pub async fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host((host, port)).await? {
        match crate::net::dual_stack::bind(addr).and_then(TcpListener::from_std) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other(format!("{host}: no address"))))
}

/// Serves `listener` forever with `handler`. A connection idle for
/// `idle_timeout` between requests is closed (Jetty's `idleTimeout`).
pub async fn serve<H, F>(listener: TcpListener, idle_timeout: Duration, handler: H)
where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                // Out of descriptors and the like: wait instead of spinning.
                debug!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let fut = handler(req);
                async move { Ok::<_, Infallible>(fut.await) }
            });
            let mut conn = hyper::server::conn::http1::Builder::new();
            conn.timer(TokioTimer::new())
                .header_read_timeout(idle_timeout.max(Duration::from_millis(1)));
            if let Err(e) = conn.serve_connection(TokioIo::new(stream), svc).await {
                debug!(%peer, error = %e, "admin connection ended");
            }
            drop(permit);
        });
    }
}

/// A response with `body` and, if given, a Content-Type.
pub fn respond(
    status: StatusCode,
    content_type: Option<&'static str>,
    body: String,
) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Some(ct) = content_type {
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    r
}

/// Jetty's HTML error page (`ErrorHandler`), which both Java endpoints
/// answer with outside their servlets: status, the URI and a message.
pub fn error_page(status: StatusCode, uri: &str, message: &str) -> Response<Body> {
    let code = status.as_u16();
    let (uri, message) = (html_escape(uri), html_escape(message));
    let body = format!(
        "<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n\
         <title>Error {code} {message}</title>\n</head>\n<body><h2>HTTP ERROR {code} {message}</h2>\n\
         <table>\n<tr><th>URI:</th><td>{uri}</td></tr>\n<tr><th>STATUS:</th><td>{code}</td></tr>\n\
         <tr><th>MESSAGE:</th><td>{message}</td></tr>\n</table>\n\n</body>\n</html>\n"
    );
    let mut r = respond(status, Some("text/html;charset=iso-8859-1"), body);
    r.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("must-revalidate,no-cache,no-store"),
    );
    r
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// `application/x-www-form-urlencoded` pairs of a query string, in order,
/// decoded (`+` is a space).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    let Some(q) = query else {
        return Vec::new();
    };
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

/// `%XX` escapes decoded as UTF-8 (invalid sequences replaced); a `%` not
/// followed by two hex digits stays as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode_like_servlets() {
        assert_eq!(
            query_pairs(Some("traceMask=306&a=x+y&b=%41%zz&c")),
            vec![
                ("traceMask".into(), "306".into()),
                ("a".into(), "x y".into()),
                ("b".into(), "A%zz".into()),
                ("c".into(), "".into()),
            ]
        );
        assert!(query_pairs(None).is_empty());
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("a%4"), "a%4");
        assert_eq!(percent_decode("%e2%82%ac"), "€");
    }
}
