//! The accept loop: hyper's HTTP/1 server over the router, with a header timeout, a head size
//! limit, a send-progress timeout, a cap on connections per address and a global bound taken
//! from the descriptor limit, so that slow, stalled or greedy clients cannot hold the box.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;

/// How long a client may take to send a request's headers. hyper also arms it again after
/// each response, so it bounds how long an idle keep-alive connection stays open.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest request head accepted (request line and headers); beyond it hyper answers 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// How long in-flight requests get to finish at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(8);
/// How long a response may make no progress at all before its connection is closed: a phone
/// on a poor signal still drains some bytes within this, a client that stopped reading does not.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// When fewer than a quarter of the connection places are free, a response that has made no
/// progress for this long is cut instead: stalled readers from many addresses would otherwise
/// fill the bound and keep every new visitor waiting for the whole [`SEND_TIMEOUT`].
pub const STALL_UNDER_PRESSURE: Duration = Duration::from_secs(2);
/// Connections one address may hold. A browser opens up to 6 per site, a phone perhaps a few
/// more while a video plays; 24 leaves room for the centre's computer running several
/// browsers (or the projector page beside the staff area) behind one address.
pub const PER_ADDRESS: usize = 24;
/// The most connections served at once, whatever the descriptor limit: each holds buffers
/// (and often a file), and the box has 512 MB. A village centre has far fewer phones.
pub const MAX_CONNECTIONS: usize = 512;
/// Descriptors kept for everything but sockets (SQLite, the index, uploads, the watcher).
pub const FD_RESERVE: u64 = 64;

/// What bounds the connections; the defaults are the constants above, tests shrink them.
#[derive(Debug, Clone)]
pub struct Limits {
    /// See [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// See [`SEND_TIMEOUT`].
    pub send_timeout: Duration,
    /// See [`STALL_UNDER_PRESSURE`].
    pub stall_under_pressure: Duration,
    /// See [`PER_ADDRESS`] (never more than half of `max_connections`, so that one address
    /// cannot take the box).
    pub per_address: usize,
    /// Connections served at once; at the bound the loop stops accepting (new ones wait in the
    /// kernel's queue) until one ends.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            send_timeout: SEND_TIMEOUT,
            stall_under_pressure: STALL_UNDER_PRESSURE,
            per_address: PER_ADDRESS,
            max_connections: MAX_CONNECTIONS,
        }
    }
}

impl Limits {
    /// The defaults, with the global bound fitted to `fd_limit` descriptors: a reserve for
    /// files, the database and the index, then two descriptors per connection (its socket and
    /// the file it may be streaming).
    pub fn for_fd_limit(fd_limit: u64) -> Limits {
        let reserve = FD_RESERVE.min(fd_limit / 4);
        let fit = usize::try_from(fd_limit.saturating_sub(reserve) / 2).unwrap_or(usize::MAX);
        Limits {
            max_connections: fit.clamp(2, MAX_CONNECTIONS),
            ..Limits::default()
        }
    }

    /// Raises this process's soft descriptor limit to its hard limit (as servers do; systemd
    /// starts services at a soft 1024) and fits the bound to the result.
    pub fn for_this_process() -> Limits {
        let fd_limit = raise_fd_limit();
        let limits = Limits::for_fd_limit(fd_limit);
        tracing::info!(
            fd_limit,
            max_connections = limits.max_connections,
            per_address = limits.per_address(),
            send_timeout_s = limits.send_timeout.as_secs(),
            "connection limits"
        );
        limits
    }

    /// The per-address cap in force.
    pub fn per_address(&self) -> usize {
        self.per_address.min((self.max_connections / 2).max(1))
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard one; returns the soft limit now in force.
fn raise_fd_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    // "Unlimited" is not a number of descriptors to plan with; treat it as plenty.
    let plenty = 1 << 20;
    if let Some(hard) = now.maximum
        && now.current.is_some_and(|soft| soft < hard)
    {
        match setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(hard),
                maximum: Some(hard),
            },
        ) {
            Ok(()) => return hard,
            Err(e) => tracing::warn!(error = %e, "cannot raise the open-files limit"),
        }
    }
    now.current.unwrap_or(plenty)
}

/// Accepts connections until `shutdown`, serving each with hyper's HTTP/1 server within
/// `limits`. Accept errors (out of file descriptors) are logged and waited out, never fatal.
/// At shutdown, requests in flight get [`SHUTDOWN_GRACE`] to finish.
pub async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let per_address = PerAddress::new(limits.per_address());
    let mut refusals = Refusals::default();
    tokio::pin!(shutdown);
    let mut accept_failing = false;
    loop {
        // At the bound, stop accepting: waiting connections stay in the kernel's queue and
        // the box keeps descriptors for its files.
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(s) => s,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
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
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // A response goes out as its head and then its body's chunks: with Nagle's algorithm
        // the last small segment waited for the phone's delayed ACK, 40 ms for every ZIM item.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set");
        }
        let Some(admitted) = per_address.admit(peer.ip()) else {
            // Closed at once (the stream is dropped); the address is never logged.
            refusals.count(per_address.cap);
            continue;
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
        let pressure = Pressure {
            slots: Arc::clone(&slots),
            low_water: limits.max_connections / 4,
        };
        let io = TokioIo::new(SendDeadline::new(stream, &limits, pressure));
        let conn = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop((admitted, slot));
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

/// Connections refused over the per-address cap, reported at most once a minute.
#[derive(Default)]
struct Refusals {
    since_report: u64,
    last_report: Option<tokio::time::Instant>,
}

impl Refusals {
    fn count(&mut self, cap: usize) {
        self.since_report += 1;
        let due = self
            .last_report
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(60));
        if due {
            tracing::debug!(
                refused = self.since_report,
                cap,
                "connections refused: one address already held as many as allowed"
            );
            self.since_report = 0;
            self.last_report = Some(tokio::time::Instant::now());
        }
    }
}

/// How many connections each address holds (in memory only, forgotten when they close).
struct PerAddress {
    cap: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One admitted connection of an address; dropping it gives the place back.
struct Admitted {
    ip: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl PerAddress {
    fn new(cap: usize) -> PerAddress {
        PerAddress {
            cap,
            open: Arc::default(),
        }
    }

    /// A place for one more connection of `ip`, unless it holds `cap` already.
    fn admit(&self, ip: IpAddr) -> Option<Admitted> {
        // An IPv4 client on a dual-stack socket is the same client as over IPv4.
        let ip = ip.to_canonical();
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = open.entry(ip).or_insert(0);
        if *n >= self.cap {
            return None;
        }
        *n += 1;
        Some(Admitted {
            ip,
            open: Arc::clone(&self.open),
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// Whether the box is short of connection places (fewer than `low_water` free).
struct Pressure {
    slots: Arc<tokio::sync::Semaphore>,
    low_water: usize,
}

impl Pressure {
    fn high(&self) -> bool {
        self.slots.available_permits() < self.low_water.max(1)
    }
}

/// A socket whose writes fail with `TimedOut` once they have made no progress for the send
/// timeout (or, while the box is short of connection places, for the shorter stall bound):
/// the clock starts when a write has to wait (the client's window is full) and starts again
/// after any byte is taken, so a slow reader is served and a stalled one is let go, whatever
/// the size of what it asked for. The stalled socket is then reset rather than closed, so the
/// kernel drops what it still queued for the client instead of keeping it for minutes.
struct SendDeadline {
    inner: tokio::net::TcpStream,
    timeout: Duration,
    under_pressure: Duration,
    pressure: Pressure,
    timer: Pin<Box<tokio::time::Sleep>>,
    /// When the current wait began, if a write is waiting.
    stalled_since: Option<tokio::time::Instant>,
}

impl SendDeadline {
    fn new(inner: tokio::net::TcpStream, limits: &Limits, pressure: Pressure) -> SendDeadline {
        SendDeadline {
            inner,
            timeout: limits.send_timeout,
            under_pressure: limits.stall_under_pressure.min(limits.send_timeout),
            pressure,
            timer: Box::pin(tokio::time::sleep(limits.send_timeout)),
            stalled_since: None,
        }
    }

    /// Keeps the clock in step with a write's outcome. While waiting, the timer wakes at the
    /// shorter stall bound to look at the pressure, and again until the full timeout.
    fn watch<T>(&mut self, cx: &mut Context<'_>, r: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if r.is_ready() {
            self.stalled_since = None;
            return r;
        }
        let now = tokio::time::Instant::now();
        let since = *self.stalled_since.get_or_insert_with(|| {
            self.timer.as_mut().reset(now + self.under_pressure);
            now
        });
        loop {
            match self.timer.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => {
                    let stalled = tokio::time::Instant::now().saturating_duration_since(since);
                    let cut = stalled >= self.timeout
                        || (stalled >= self.under_pressure && self.pressure.high());
                    if cut {
                        return Poll::Ready(Err(self.cut()));
                    }
                    let next = (self.timeout - stalled).min(self.under_pressure);
                    self.timer
                        .as_mut()
                        .reset(tokio::time::Instant::now() + next);
                }
            }
        }
    }

    fn cut(&mut self) -> io::Error {
        if let Err(e) = self.inner.set_zero_linger() {
            tracing::debug!(error = %e, "cannot set the stalled socket to reset");
        }
        io::Error::new(
            io::ErrorKind::TimedOut,
            "the client took nothing for the send timeout",
        )
    }
}

impl AsyncRead for SendDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, r)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.watch(cx, r)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, r)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let r = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.watch(cx, r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_keeps_a_reserve_and_two_descriptors_per_connection() {
        assert_eq!(Limits::for_fd_limit(256).max_connections, 96);
        assert_eq!(Limits::for_fd_limit(1024).max_connections, 480);
        assert_eq!(
            Limits::for_fd_limit(1 << 20).max_connections,
            MAX_CONNECTIONS
        );
        assert_eq!(Limits::for_fd_limit(64).max_connections, 24);
        assert_eq!(Limits::for_fd_limit(64).per_address(), 12);
        assert_eq!(Limits::for_fd_limit(256).per_address(), PER_ADDRESS);
    }

    #[test]
    fn an_address_gets_its_places_back_when_connections_end() {
        let table = PerAddress::new(2);
        let ip: IpAddr = "10.0.0.7".parse().unwrap();
        let a = table.admit(ip);
        let b = table.admit(ip);
        assert!(a.is_some() && b.is_some());
        assert!(table.admit(ip).is_none());
        assert!(table.admit("10.0.0.8".parse().unwrap()).is_some());
        drop(a);
        assert!(table.admit(ip).is_some());
    }
}
