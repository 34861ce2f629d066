//! The server's connections under slow and idle clients: headers sent a byte at a time, a body
//! dribbled, keep-alive connections left open, more connections than the cap, and a flood of
//! idle connections whose memory must come back. Each test runs a real `kros-numbers serve` with
//! short timeouts and talks raw TCP to it.

#[path = "support/procs.rs"]
mod procs;

use procs::Server;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A server with a fresh database and these limits; the database folder lives as long as it.
fn server(name: &str, env: &[(&str, &str)]) -> (tempfile::TempDir, Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kros.db", dir.path().display());
    procs::cli(&url, &["migrate"]);
    let (_, key) = procs::org_with_key(&url, "Slow Clients Org");
    let mut server = Server::start(&url, dir.path(), name, env);
    server.wait_ready();
    (dir, server, key)
}

/// Two-second timeouts: long enough for any real client on loopback, short enough for a test.
const SHORT: [(&str, &str); 2] = [("KROS_HEADER_TIMEOUT_SECS", "2"), ("KROS_BODY_TIMEOUT_SECS", "2")];

/// Reads until the server closes the connection (or `within` passes), writing `dribble` one byte
/// at a time meanwhile; returns what was read and how long the server took to close.
fn until_closed(stream: &mut TcpStream, dribble: &[u8], within: Duration) -> (String, Option<Duration>) {
    let started = Instant::now();
    stream.set_read_timeout(Some(Duration::from_millis(250))).unwrap();
    let mut answer = Vec::new();
    let mut next = dribble.iter();
    while started.elapsed() < within {
        if let Some(byte) = next.next() {
            let _ = stream.write_all(&[*byte]);
        }
        let mut buf = [0u8; 4096];
        match stream.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&answer).into(), Some(started.elapsed())),
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return (String::from_utf8_lossy(&answer).into(), Some(started.elapsed())),
        }
    }
    (String::from_utf8_lossy(&answer).into(), None)
}

fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(&server.addr).unwrap()
}

fn rss_kib(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn headers_sent_a_byte_at_a_time_are_cut_off() {
    let (_dir, server, _) = server("slow-headers", &SHORT);
    let mut stream = connect(&server);
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    let (_, closed) = until_closed(&mut stream, &[b'a'; 40], Duration::from_secs(8));
    let closed = closed.expect("the server closed the connection");
    assert!(closed < Duration::from_secs(4), "closed after {closed:?}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let (_dir, server, _) = server("idle", &SHORT);
    let mut stream = connect(&server);
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let (answer, closed) = until_closed(&mut stream, &[], Duration::from_secs(8));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let closed = closed.expect("the server closed the idle connection");
    assert!(closed < Duration::from_secs(4), "closed after {closed:?}");
}

#[test]
fn a_body_sent_too_slowly_is_refused() {
    let (_dir, server, key) = server("slow-body", &SHORT);
    let mut stream = connect(&server);
    let head = format!(
        "POST /v1/endpoints HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\""
    );
    stream.write_all(head.as_bytes()).unwrap();
    let (answer, closed) = until_closed(&mut stream, &[], Duration::from_secs(8));
    assert!(closed.is_some_and(|c| c < Duration::from_secs(4)), "answered and closed in time: {closed:?}");
    assert!(answer.starts_with("HTTP/1.1 400") && answer.contains("validation_error"), "{answer}");
}

#[test]
fn connections_past_the_cap_wait_for_a_free_one() {
    let env = [SHORT[0], SHORT[1], ("KROS_MAX_CONNECTIONS", "4")];
    let (_dir, server, _) = server("cap", &env);
    // Four connections that say nothing take every slot.
    let idle: Vec<TcpStream> = (0..4).map(|_| connect(&server)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fifth = connect(&server);
    fifth.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    fifth.set_read_timeout(Some(Duration::from_millis(1000))).unwrap();
    let mut buf = [0u8; 64];
    assert!(fifth.read(&mut buf).is_err(), "not served while the cap is reached");
    // The idle ones are cut off after the header timeout; then the fifth is served.
    let (answer, _) = until_closed(&mut fifth, &[], Duration::from_secs(6));
    assert!(
        answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"),
        "served once a slot was free: {answer:?}"
    );
    drop(idle);
}

#[test]
fn memory_comes_back_after_a_flood_of_idle_connections() {
    let (_dir, server, _) = server("flood", &SHORT);
    let baseline = rss_kib(&server);
    let mut flood: Vec<TcpStream> = Vec::new();
    for _ in 0..2000 {
        let mut stream = connect(&server);
        let _ = stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
        flood.push(stream);
    }
    std::thread::sleep(Duration::from_millis(500));
    let peak = rss_kib(&server);
    // The header timeout cuts them all off; the memory goes back.
    std::thread::sleep(Duration::from_secs(3));
    drop(flood);
    std::thread::sleep(Duration::from_secs(5));
    let after = rss_kib(&server);
    eprintln!("RSS: {baseline} KiB before, {peak} KiB with 2000 idle connections, {after} KiB after");
    let growth = peak.saturating_sub(baseline);
    // Two thousand connections cost at least a few MiB (about 6 here; 2 is the floor that still
    // tells a flood from noise, whatever the allocator's arenas on the machine).
    assert!(growth > 2 * 1024, "the flood did cost memory ({growth} KiB), so the test means something");
    // At least half of it back (the allocator keeps some arenas; a leak would keep it all).
    assert!(after < baseline + growth / 2, "RSS {after} KiB after the flood, {baseline} KiB before (peak {peak} KiB)");
    // And the server still answers.
    let mut stream = connect(&server);
    stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    let (answer, _) = until_closed(&mut stream, &[], Duration::from_secs(3));
    assert!(answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200"), "{answer}");
}
