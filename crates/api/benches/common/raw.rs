//! A load generator that is not the limit (issue 18): one tokio task per
//! connection writing raw HTTP/1.1 requests over a keep-alive TCP stream
//! with TCP_NODELAY, and reading each answer by its `Content-Length`. Every
//! answer's status is checked; the run is bounded in time, 127.0.0.1 only.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{MakeRequest, Stats, run_workers};

/// Runs `connections` tasks for `seconds` against `addr` (which must be a
/// loopback address), each on its own connection.
pub async fn drive_raw(addr: SocketAddr, token: &str, connections: usize, seconds: f64, make: MakeRequest) -> Stats {
    assert!(addr.ip().is_loopback(), "the load generator talks to 127.0.0.1 / ::1 only, not {addr}");
    run_workers(connections, seconds, |w, stop| {
        let (token, make) = (token.to_owned(), make.clone());
        async move {
            let mut stream = TcpStream::connect(addr).await.expect("cannot connect");
            stream.set_nodelay(true).expect("TCP_NODELAY");
            let (mut lat, mut events, mut k) = (Vec::new(), 0u64, 0u64);
            let mut buf = Vec::with_capacity(64 * 1024);
            while !stop.load(Ordering::Relaxed) {
                let (path, content_type, body, n) = make(w, k);
                k += 1;
                let request = format!(
                    "POST {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\ncontent-type: \
                     {content_type}\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                let t = Instant::now();
                stream.write_all(request.as_bytes()).await.expect("cannot send");
                let (status, answer) = read_response(&mut stream, &mut buf).await;
                assert!((200..300).contains(&status), "{status}: {}", String::from_utf8_lossy(&answer));
                lat.push(t.elapsed().as_micros() as u64);
                events += n;
            }
            (lat, events)
        }
    })
    .await
}

/// Reads one response (no pipelining, so nothing follows it): its status and body.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> (u16, Vec<u8>) {
    buf.clear();
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buf).await;
    };
    let head = std::str::from_utf8(&buf[..header_end]).expect("headers are ASCII");
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let length: usize = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("content-length")))
        .and_then(|(_, v)| v.trim().parse().ok())
        .expect("a content-length (the server does not chunk these answers)");
    while buf.len() < header_end + length {
        read_more(stream, buf).await;
    }
    (status, buf[header_end..header_end + length].to_vec())
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await.expect("cannot read");
    assert!(n > 0, "the server closed the connection");
    buf.extend_from_slice(&chunk[..n]);
}
