//! Announces the box on the centre's network by multicast DNS: phones and laptops that resolve
//! `.local` names reach it as `hoclieu.local`, and service browsers see it as an HTTP server.
//! Not every phone resolves `.local` names, so the poster also shows the numeric address.

use mdns_sd::{ServiceDaemon, ServiceInfo};

/// The name the box answers to.
pub const HOST: &str = "hoclieu.local.";

/// Starts answering for [`HOST`] and announcing the HTTP service on `port`. Keep the returned
/// daemon alive while serving; `None` (logged) when the network does not allow it.
pub fn announce(port: u16, centre: &str) -> Option<ServiceDaemon> {
    let started = ServiceDaemon::new().and_then(|daemon| {
        let info = ServiceInfo::new(
            "_http._tcp.local.",
            "hoclieu",
            HOST,
            "",
            port,
            &[("path", "/"), ("centre", centre)][..],
        )?
        .enable_addr_auto();
        daemon.register(info)?;
        Ok(daemon)
    });
    match started {
        Ok(d) => {
            tracing::info!(host = HOST, port, "announced on the local network (mDNS)");
            Some(d)
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot announce hoclieu.local; phones can still use the address");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Needs a network interface that carries multicast (not always the case in containers):
    /// `cargo test -- --ignored mdns`.
    #[test]
    #[ignore]
    fn another_machine_can_resolve_hoclieu_local() {
        let server = announce(8080, "thử").unwrap();
        let client = ServiceDaemon::new().unwrap();
        let events = client.resolve_hostname(HOST, Some(5000)).unwrap();
        let mut found = false;
        while let Ok(ev) = events.recv_timeout(std::time::Duration::from_secs(6)) {
            if let mdns_sd::HostnameResolutionEvent::AddressesFound(_, addrs) = ev {
                found = !addrs.is_empty();
                break;
            }
        }
        let _ = client.shutdown();
        let _ = server.shutdown();
        assert!(found, "hoclieu.local did not resolve");
    }
}
