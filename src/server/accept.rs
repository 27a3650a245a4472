//! The accept loop: hyper's HTTP/1 server over the router, with a header timeout and a head
//! size limit for slow or hostile clients, accept errors waited out, and a graceful stop.

use std::future::Future;

use tokio::net::TcpListener;

/// How long a client may take to send a request's headers (also how long an idle keep-alive
/// connection stays open): slow or silent connections must not hold the box's few sockets.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Largest request head accepted (request line and headers); beyond it hyper answers 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// How long in-flight requests get to finish at shutdown.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(8);

/// Accepts connections until `shutdown`, serving each with hyper's HTTP/1 server: headers
/// must arrive within [`HEADER_READ_TIMEOUT`] and fit in [`MAX_HEAD_BYTES`]. Accept errors
/// (out of file descriptors) are logged and waited out, never fatal. At shutdown, requests in
/// flight get [`SHUTDOWN_GRACE`] to finish.
pub async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    tokio::pin!(shutdown);
    let mut accept_failing = false;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => {
                    accept_failing = false;
                    a
                }
                Err(e) => {
                    // EMFILE and friends: the connections in flight will free descriptors.
                    if !accept_failing {
                        tracing::warn!(error = %e, "cannot accept connections for now (too many open files?); retrying");
                        accept_failing = true;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        // The peer address reaches handlers only for login rate limiting and clock reports;
        // it is never stored.
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some requests were still running at shutdown; they were cut");
    }
    Ok(())
}
