//! Where phones can reach this box: the URLs of the address it listens on, and the Host a
//! page was opened with when that is a plain name or address. Printed addresses and QR codes
//! come from here, so a poster and a handout say the same thing.

use std::net::{IpAddr, SocketAddr};

/// The URLs at which phones on the same network can reach a server bound to `addr`
/// (`localhost` last, for the box's own browser).
pub fn reachable_urls(addr: SocketAddr) -> Vec<String> {
    let port = addr.port();
    if !addr.ip().is_unspecified() {
        return vec![format!("http://{addr}/")];
    }
    let mut urls: Vec<String> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback())
        .filter_map(|i| match i.ip() {
            IpAddr::V4(v4) => Some(format!("http://{v4}:{port}/")),
            IpAddr::V6(_) => None,
        })
        .collect();
    urls.push(format!("http://localhost:{port}/"));
    urls
}

/// The Host a page was reached by, when it is a plain host name or address (it goes into
/// printed addresses and QR codes, so nothing else is let through).
pub fn request_host(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
}

/// The box's own addresses for phones: its network addresses, then `hoclieu.local` when it is
/// announced; never `localhost`, which names the phone itself.
pub fn own(listen: SocketAddr, mdns: bool) -> Vec<String> {
    let mut out: Vec<String> = reachable_urls(listen)
        .into_iter()
        .filter(|u| !u.contains("localhost"))
        .collect();
    if mdns {
        out.push(format!("http://hoclieu.local:{}/", listen.port()));
    }
    out
}

/// The addresses to print on paper for phones (poster, handouts, the projector): the box's
/// network addresses first (phones can always use those), then `hoclieu.local` when it is
/// announced; the Host the page was opened with only when the box knows no address of its own.
/// `localhost` is never printed: it names the phone itself.
pub fn printed(listen: SocketAddr, mdns: bool, headers: &http::HeaderMap) -> Vec<String> {
    let mut out = own(listen, mdns);
    if out.is_empty()
        && let Some(host) = request_host(headers).filter(|h| !h.starts_with("localhost"))
    {
        out.push(format!("http://{host}/"));
    }
    out
}
