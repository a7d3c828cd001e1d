//! A raw loopback HTTP/1.1 server for hostile answers vault-sim does not play: every request
//! is counted and answered by a closure with the exact bytes to write (one write, TCP_NODELAY).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// What to do for request number `n` (from 1) to `target`: wait, then write these bytes.
pub type Answer = Arc<dyn Fn(usize, &str) -> (Duration, Vec<u8>) + Send + Sync>;

pub struct RawServer {
    port: u16,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    pub fn start(answer: Answer) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (count, stopped) = (requests.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (answer, count) = (answer.clone(), count.clone());
                std::thread::spawn(move || serve(conn, &answer, &count));
            }
        });
        RawServer { port, requests, stop }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(mut conn: TcpStream, answer: &Answer, count: &AtomicUsize) {
    let _ = conn.set_nodelay(true);
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    let mut searched = 0;
    loop {
        while let Some(end) = find(&buf[searched..], b"\r\n\r\n").map(|i| i + searched) {
            searched = 0;
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end + 4);
            let target = head.split(' ').nth(1).unwrap_or("").to_owned();
            let n = count.fetch_add(1, Ordering::SeqCst) + 1;
            let (delay, bytes) = answer(n, &target);
            std::thread::sleep(delay);
            if conn.write_all(&bytes).is_err() {
                return;
            }
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(k) => {
                searched = buf.len().saturating_sub(3);
                buf.extend_from_slice(&chunk[..k]);
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A complete response: status line, `headers` (each "Name: value"), Content-Length, body.
pub fn response(status: &str, headers: &[String], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for h in headers {
        out.push_str(h);
        out.push_str("\r\n");
    }
    out.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

/// A 200 JSON answer.
pub fn ok(body: &str) -> Vec<u8> {
    response("200 OK", &[], body)
}
