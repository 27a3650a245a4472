//! The accept loop's limits over real sockets (issue 14, item 2): readers that stop reading,
//! the send-progress timeout, the cap per address and the global bound. Loopback takes any
//! 127.x source address, so "another visitor" binds 127.0.0.2.

use std::net::SocketAddr;
use std::time::Duration;

use hoclieu::server::accept::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::util::TestApp;

/// The fixture's recording, replaced by one large enough that no socket buffer holds it.
const BIG: &str = "/m/agriculture/lua-vu-xuan-bai-giang.mp3";
const BIG_BYTES: usize = 8 << 20;

const ATTACKER: [u8; 4] = [127, 0, 0, 1];
const VISITOR: [u8; 4] = [127, 0, 0, 2];

fn write_big_attachment(lib: &std::path::Path) {
    std::fs::write(
        lib.join("agriculture/lua-vu-xuan-bai-giang.mp3"),
        vec![7u8; BIG_BYTES],
    )
    .unwrap();
}

async fn connect_from(source: [u8; 4], server: SocketAddr, recv_buffer: Option<u32>) -> TcpStream {
    let s = TcpSocket::new_v4().unwrap();
    if let Some(n) = recv_buffer {
        s.set_recv_buffer_size(n).unwrap();
    }
    s.bind(SocketAddr::from((source, 0))).unwrap();
    s.connect(server).await.unwrap()
}

/// A client with a 4 KB receive window that asks for the big file and never reads.
async fn stalled_reader(server: SocketAddr, source: [u8; 4]) -> TcpStream {
    let mut s = connect_from(source, server, Some(4096)).await;
    let _ = s
        .write_all(format!("GET {BIG} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .await;
    s
}

/// Everything the server sends until it closes `s`, and whether it did close it before
/// `patience` passed without a byte.
async fn read_until_closed(s: &mut TcpStream, patience: Duration) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    let mut buf = vec![0; 256 * 1024];
    loop {
        match tokio::time::timeout(patience, s.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return (out, true),
            Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

/// A whole `GET path` from `source` (empty if the connection was refused or never answered
/// within 20 s).
async fn get_from(source: [u8; 4], server: SocketAddr, path: &str) -> String {
    let mut s = connect_from(source, server, None).await;
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).await.is_err() {
        return String::new();
    }
    let (got, _) = read_until_closed(&mut s, Duration::from_secs(20)).await;
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reader_that_stops_reading_is_let_go_after_the_send_timeout() {
    let app = TestApp::with(write_big_attachment);
    let limits = Limits {
        send_timeout: Duration::from_secs(3),
        ..Limits::default()
    };
    let served = app.serve(limits).await;
    let mut stalled = stalled_reader(served.addr, ATTACKER).await;
    // A reader that pauses often, each time for less than the send timeout, but for longer
    // than it in all: the clock starts again on every byte it takes.
    let mut slow = connect_from(VISITOR, served.addr, Some(4096)).await;
    slow.write_all(
        format!(
            "GET {BIG} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99999\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let n = slow.read(&mut buf).await.unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    let (rest, closed) = read_until_closed(&mut slow, Duration::from_secs(20)).await;
    got.extend_from_slice(&rest);
    assert!(closed);
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.starts_with("HTTP/1.1 206"),
        "{}",
        &text[..text.len().min(200)]
    );
    assert!(
        got.ends_with(&[7u8; 1000]),
        "the slow reader got all it asked for"
    );

    // By now the stalled reader took nothing for well over the send timeout.
    let (got, closed) = read_until_closed(&mut stalled, Duration::from_secs(10)).await;
    assert!(
        closed && got.len() < BIG_BYTES,
        "the stalled connection was {} (after {} bytes)",
        if closed { "closed" } else { "still open" },
        got.len()
    );
}

/// Stalled readers from many addresses (each under the per-address cap) fill the bound; the
/// box then cuts responses that have stalled for the shorter bound, so a new visitor is not
/// kept waiting for the whole send timeout.
#[tokio::test(flavor = "multi_thread")]
async fn at_the_bound_stalled_readers_from_many_addresses_give_way_to_a_new_visitor() {
    let app = TestApp::with(write_big_attachment);
    let limits = Limits {
        max_connections: 8,
        send_timeout: Duration::from_secs(300),
        stall_under_pressure: Duration::from_secs(1),
        header_read_timeout: Duration::from_secs(300),
        ..Limits::default()
    };
    let served = app.serve(limits).await;
    let mut stalled = Vec::new();
    for i in 0..8u8 {
        stalled.push(stalled_reader(served.addr, [127, 0, 1, 10 + i]).await);
    }
    // Let every stalled response fill its window and wait.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let page = get_from(VISITOR, served.addr, "/").await;
    assert!(
        page.starts_with("HTTP/1.1 200"),
        "the visitor was not served while stalled readers held the bound: {:?}",
        &page[..page.len().min(100)]
    );
    let mut cut = 0;
    for s in &mut stalled {
        let (got, closed) = read_until_closed(s, Duration::from_secs(10)).await;
        if closed && got.len() < BIG_BYTES {
            cut += 1;
        }
    }
    assert!(cut > 0, "no stalled reader was let go");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_per_address_cap_refuses_one_more_connection_while_other_addresses_are_served() {
    let app = TestApp::new();
    let limits = Limits {
        per_address: 3,
        max_connections: 64,
        header_read_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let served = app.serve(limits).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(connect_from(ATTACKER, served.addr, None).await);
    }
    // The fourth is closed at once, without an answer.
    let mut fourth = connect_from(ATTACKER, served.addr, None).await;
    let _ = fourth
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await;
    let (got, closed) = read_until_closed(&mut fourth, Duration::from_secs(10)).await;
    assert!(
        closed && got.is_empty(),
        "{}",
        String::from_utf8_lossy(&got)
    );
    // Another address is served meanwhile, and so are the three admitted.
    assert!(
        get_from(VISITOR, served.addr, "/")
            .await
            .starts_with("HTTP/1.1 200")
    );
    let mut first = held.remove(0);
    first
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (got, _) = read_until_closed(&mut first, Duration::from_secs(20)).await;
    assert!(got.starts_with(b"HTTP/1.1 200"));
    // Its place is given back when it ends.
    drop(first);
    let mut served_again = false;
    for _ in 0..50 {
        if get_from(ATTACKER, served.addr, "/")
            .await
            .starts_with("HTTP/1.1 200")
        {
            served_again = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served_again, "the address's place was not given back");
}

#[tokio::test(flavor = "multi_thread")]
async fn at_the_connection_bound_new_connections_wait_until_one_ends() {
    let app = TestApp::new();
    let limits = Limits {
        max_connections: 2,
        header_read_timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    let served = app.serve(limits).await;
    let a = connect_from([127, 0, 0, 3], served.addr, None).await;
    let _b = connect_from([127, 0, 0, 4], served.addr, None).await;
    let mut c = connect_from(VISITOR, served.addr, None).await;
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(1), c.read(&mut buf)).await;
    assert!(early.is_err(), "answered beyond the bound: {early:?}");
    drop(a);
    let (got, closed) = read_until_closed(&mut c, Duration::from_secs(20)).await;
    assert!(closed && got.starts_with(b"HTTP/1.1 200"));
}

/// hyper arms the header timeout again after each response, so an idle keep-alive
/// connection is closed too (a check of hyper's behaviour the accept loop relies on).
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_keep_alive_connection_is_closed_after_the_header_timeout() {
    let app = TestApp::new();
    let limits = Limits {
        header_read_timeout: Duration::from_secs(1),
        ..Limits::default()
    };
    let served = app.serve(limits).await;
    let mut s = connect_from(VISITOR, served.addr, None).await;
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let (got, closed) = read_until_closed(&mut s, Duration::from_secs(10)).await;
    assert!(got.starts_with(b"HTTP/1.1 200"));
    assert!(closed, "an idle keep-alive connection stayed open");
}

/// The attack on the real binary with 256 descriptors: readers of a large file that
/// never read, opened from one address ten at a time for as long as the test runs (on the old
/// server every descriptor ended up held by them and visitors waited out the whole attack); a
/// visitor from another address is served meanwhile, the large file included.
#[test]
fn stalled_readers_of_a_large_file_do_not_keep_other_visitors_out() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("library");
    crate::util::copy_tree(&crate::util::fixture_dir(), &lib);
    write_big_attachment(&lib);
    let port = crate::server::free_port();
    let child = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n 256 && exec {} serve --no-mdns --listen 127.0.0.1:{port} --library {} --data {}",
            env!("CARGO_BIN_EXE_hoclieu"),
            lib.display(),
            tmp.path().join("data").display()
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let _server = crate::server::Server { child, port };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut ready = false;
        for _ in 0..600 {
            if TcpStream::connect(addr).await.is_ok()
                && get_from(VISITOR, addr, "/healthz")
                    .await
                    .starts_with("HTTP/1.1 200")
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(ready, "not ready");
        let attack = tokio::spawn(async move {
            let mut held = Vec::new();
            while held.len() < 1500 {
                for _ in 0..10 {
                    held.push(stalled_reader(addr, ATTACKER).await);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            std::future::pending::<()>().await;
        });
        // Let the attack land before the visitor comes.
        tokio::time::sleep(Duration::from_secs(3)).await;
        let page = get_from(VISITOR, addr, "/").await;
        assert!(page.starts_with("HTTP/1.1 200"), "visitor got: {page:.200}");
        let mut s = connect_from(VISITOR, addr, None).await;
        s.write_all(
            format!(
                "GET {BIG} HTTP/1.1\r\nHost: x\r\nRange: bytes=0-99\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
        let (part, _) = read_until_closed(&mut s, Duration::from_secs(20)).await;
        let part = String::from_utf8_lossy(&part);
        assert!(part.starts_with("HTTP/1.1 206"), "visitor got: {part:.200}");
        attack.abort();
    });
}
