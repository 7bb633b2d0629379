//! Connections: the accept loop under the router, with what keeps slow or
//! greedy clients from taking the service down.
//!
//! * a cap on open connections, global and per client IP (over it, a short
//!   503 and the connection is closed at once);
//! * a header read timeout (hyper's, on every request and on idle
//!   keep-alive connections waiting for the next one) and a body read
//!   timeout ([`body_timeout`]: a `Content-Length` larger than the body sent
//!   gets 408 and the connection is closed);
//! * the descriptor limit raised to the hard limit at start
//!   ([`raise_fd_limit`]), and the global cap kept below it;
//! * accept errors (descriptors exhausted after all) are logged and retried
//!   after a pause, never a busy loop.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower::ServiceExt;

use super::error::AppError;
use super::AppState;

/// Open connections, in all and per client IP.
pub struct Connections {
    max_total: usize,
    max_per_ip: usize,
    total: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
}

/// One admitted connection; dropping it frees its place.
pub struct ConnGuard {
    conns: Arc<Connections>,
    ip: IpAddr,
}

impl Connections {
    pub fn new(max_total: usize, max_per_ip: usize) -> Arc<Connections> {
        Arc::new(Connections {
            max_total: max_total.max(1),
            max_per_ip: max_per_ip.max(1),
            total: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, usize>> {
        self.per_ip.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Take a place for a connection from `ip`, or `None` over either cap.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<ConnGuard> {
        let mut m = self.lock();
        if self.total.load(Ordering::SeqCst) >= self.max_total {
            return None;
        }
        let n = m.entry(ip).or_insert(0);
        if *n >= self.max_per_ip {
            return None;
        }
        *n += 1;
        self.total.fetch_add(1, Ordering::SeqCst);
        Some(ConnGuard {
            conns: self.clone(),
            ip,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::SeqCst)
    }

    pub fn max_total(&self) -> usize {
        self.max_total
    }

    pub fn max_per_ip(&self) -> usize {
        self.max_per_ip
    }
}

impl Drop for ConnGuard {
    fn drop(&mut self) {
        let mut m = self.conns.lock();
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
        self.conns.total.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Raise the soft limit on open descriptors to the hard limit; returns the
/// soft limit in force afterwards (`None` where it cannot be read).
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not everywhere
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        // SAFETY: getrlimit/setrlimit fill in / read a plain struct we own.
        let mut lim: libc::rlimit = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return None;
        }
        if lim.rlim_cur < lim.rlim_max {
            let old = lim.rlim_cur;
            let want = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &want) } == 0 {
                tracing::info!(
                    from = old as u64,
                    to = lim.rlim_max as u64,
                    "raised the open-file limit"
                );
                return Some(lim.rlim_max as u64);
            }
            tracing::warn!(limit = old as u64, "could not raise the open-file limit");
        }
        Some(lim.rlim_cur as u64)
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Descriptors kept free of connections (index files, database, model, logs).
pub const FD_RESERVE: usize = 256;

/// The global connection cap that fits `fd_limit` descriptors.
pub fn cap_for_fd_limit(configured: usize, fd_limit: Option<u64>) -> usize {
    match fd_limit {
        Some(l) => configured.min((l as usize).saturating_sub(FD_RESERVE).max(16)),
        None => configured,
    }
}

const REFUSED: &str = "{\"error\":\"连接过多，请稍后再试\"}";

/// Tell a refused client why, without waiting on it, and close.
fn refuse(stream: TcpStream) {
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{REFUSED}",
        REFUSED.len()
    );
    let _ = stream.try_write(head.as_bytes());
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    )
}

/// Serve `state`'s router on `listener` until `shutdown` completes, then
/// let open requests finish (up to 10 s).
pub async fn serve_until(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let router = super::app(state.clone());
    let (close_tx, close_rx) = watch::channel(false);
    let header_timeout = state.config.header_timeout;
    tokio::pin!(shutdown);
    let mut last_accept_warning: Option<Instant> = None;
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    if last_accept_warning.is_none_or(|t| t.elapsed() > Duration::from_secs(5)) {
                        tracing::warn!(error = %e, open = state.connections.open(), "accept error; pausing");
                        last_accept_warning = Some(Instant::now());
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(guard) = state.connections.admit(peer.ip()) else {
            state.metrics.connection_refused();
            refuse(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let mut close_rx = close_rx.clone();
        tokio::spawn(async move {
            let _guard = guard;
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let mut req = req.map(Body::new);
                    req.extensions_mut().insert(ConnectInfo(peer));
                    router.clone().oneshot(req)
                });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            tokio::select! {
                r = conn.as_mut() => {
                    if let Err(e) = r {
                        tracing::debug!(error = %e, %peer, "connection ended");
                    }
                }
                _ = async { close_rx.wait_for(|closing| *closing).await.map(|_| ()) } => {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = close_tx.send(true);
    let deadline = Instant::now() + Duration::from_secs(10);
    while state.connections.open() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn close_connection(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Middleware: read the whole request body (at most `max_body_bytes`)
/// within `body_timeout`, so a client announcing more than it sends cannot
/// hold a connection and a handler. Too slow: 408; too large: 413; both close
/// the connection.
pub async fn body_timeout(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0")
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if !has_body {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let limit = state.config.max_body_bytes;
    match tokio::time::timeout(state.config.body_timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
                || e.to_string().contains("length limit");
            close_connection(if too_large {
                AppError::too_large("请求体过大").into_response()
            } else {
                AppError::bad_request("请求体读取失败").into_response()
            })
        }
        Err(_) => {
            tracing::info!(path = %parts.uri.path(), "request body too slow; closing");
            close_connection(
                AppError::new(StatusCode::REQUEST_TIMEOUT, "请求体发送超时，请重试")
                    .into_response(),
            )
        }
    }
}

/// Middleware: one access-log line per request (method, path without the
/// query, which may hold a citizen's question; status; milliseconds; client).
pub async fn access_log(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let ip = super::limits::client_ip(&req, &state.config.trusted_proxies);
    let resp = next.run(req).await;
    tracing::info!(
        target: "lawbrain::access",
        %method,
        path,
        status = resp.status().as_u16(),
        ms = start.elapsed().as_millis() as u64,
        client = %ip,
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_per_ip_and_in_all_and_free_on_drop() {
        let c = Connections::new(3, 2);
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let a1 = c.admit(a).expect("a1");
        let _a2 = c.admit(a).expect("a2");
        assert!(c.admit(a).is_none(), "per-IP cap");
        let _b1 = c.admit(b).expect("b1");
        assert!(c.admit(b).is_none(), "global cap");
        drop(a1);
        assert_eq!(c.open(), 2);
        assert!(c.admit(b).is_some(), "a freed place is reused");
    }

    #[test]
    fn the_cap_stays_below_the_descriptor_limit() {
        assert_eq!(cap_for_fd_limit(4096, Some(1024)), 1024 - FD_RESERVE);
        assert_eq!(cap_for_fd_limit(100, Some(1 << 20)), 100);
        assert_eq!(cap_for_fd_limit(100, None), 100);
    }
}
