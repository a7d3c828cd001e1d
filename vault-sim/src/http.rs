//! Just enough HTTP/1.1 for a test server: request heads parsed by httparse, responses put on
//! the wire by hand, because wire faults need bytes no real server library would send.
//! A response goes out in a single write (headers and body together, on a TCP_NODELAY
//! socket), so Nagle and delayed ACK never stall keep-alive.

use crate::model::Action;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A request head larger than this is refused (the connection closes).
const MAX_HEAD: usize = 64 * 1024;
/// A request with more headers than this is refused (the connection closes).
const MAX_HEADERS: usize = 100;

pub struct Request {
    pub method: String,
    pub target: String,
    /// True for HTTP/1.1, false for HTTP/1.0.
    pub http11: bool,
    pub headers: Vec<(String, String)>,
}

/// A header's value by case-insensitive name, as HTTP/1.1 and HTTP/2 peers send them.
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    pub fn keep_alive(&self) -> bool {
        match self.header("connection") {
            Some(v) if v.eq_ignore_ascii_case("close") => false,
            Some(v) if v.eq_ignore_ascii_case("keep-alive") => true,
            _ => self.http11,
        }
    }

    /// The target split at the first '?': (path, query).
    pub fn path_and_query(&self) -> (&str, &str) {
        self.target.split_once('?').unwrap_or((&self.target, ""))
    }
}

fn bad_head(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

/// Parses a complete head at the start of `buf`: the request and the head's length, or None
/// while more bytes are needed.
fn parse_head(buf: &[u8]) -> io::Result<Option<(Request, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(bad_head("too many request headers")),
        Err(_) => return Err(bad_head("bad request head")),
    };
    let request = Request {
        method: parsed.method.unwrap_or_default().to_owned(),
        target: parsed.path.unwrap_or_default().to_owned(),
        http11: parsed.version == Some(1),
        headers: parsed
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).trim().to_owned()))
            .collect(),
    };
    Ok(Some((request, len)))
}

/// Reads requests from one connection, keeping bytes that arrive after a head.
pub struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    pub fn new() -> Self {
        Reader { buf: Vec::with_capacity(4096) }
    }

    /// The next request head; Ok(None) when the peer closed or the server is stopping. The
    /// stream must have a read timeout so `stop` is noticed.
    pub fn next(&mut self, stream: &mut impl Read, stop: &AtomicBool) -> io::Result<Option<Request>> {
        loop {
            if let Some((request, len)) = parse_head(&self.buf)? {
                self.buf.drain(..len);
                // GET has no body; skip one if a client sent it anyway.
                let body_len: usize = request.header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
                self.skip(stream, stop, body_len)?;
                return Ok(Some(request));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad_head("request head too large"));
            }
            if !self.fill(stream, stop)? {
                return Ok(None);
            }
        }
    }

    fn skip(&mut self, stream: &mut impl Read, stop: &AtomicBool, mut n: usize) -> io::Result<()> {
        while n > 0 {
            if self.buf.is_empty() && !self.fill(stream, stop)? {
                return Ok(());
            }
            let k = n.min(self.buf.len());
            self.buf.drain(..k);
            n -= k;
        }
        Ok(())
    }

    fn fill(&mut self, stream: &mut impl Read, stop: &AtomicBool) -> io::Result<bool> {
        let mut chunk = [0u8; 4096];
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(false);
            }
            match stream.read(&mut chunk) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(true);
                }
                Err(e) if is_timeout(&e) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// The errors a socket read timeout (used to poll the stop flag) shows up as.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}

/// A response, before a wire fault shapes it.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response { status, headers: vec![("Content-Type".into(), content_type.into())], body: body.into() }
    }

    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Response::new(200, "application/json;charset=UTF-8", body)
    }

    pub fn header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.into(), value.to_string()));
        self
    }

    /// Writes the response with one write, broken as `fault` asks when it is a wire fault
    /// (Gzip, Chunked, Truncated, DropMidBody, LowercaseHeaders, SlowBody in two writes; any
    /// other is written plainly).
    /// Returns false when the connection must close after it.
    pub fn write_to(mut self, stream: &mut impl Write, keep_alive: bool, fault: Option<&Action>) -> io::Result<bool> {
        let mut content_length = Some(self.body.len());
        match fault {
            Some(Action::Gzip) => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&self.body)?;
                self.body = gz.finish()?;
                content_length = Some(self.body.len());
                self.headers.push(("Content-Encoding".into(), "gzip".into()));
            }
            Some(Action::Chunked) => {
                self.body = chunked(&self.body);
                content_length = None;
                self.headers.push(("Transfer-Encoding".into(), "chunked".into()));
            }
            Some(Action::Truncated) => content_length = Some(self.body.len() + 512),
            Some(Action::DropMidBody) => self.body.truncate(self.body.len() / 2),
            _ => {}
        }
        if let Some(n) = content_length {
            self.headers.push(("Content-Length".into(), n.to_string()));
        }
        if !keep_alive {
            self.headers.push(("Connection".into(), "close".into()));
        }
        let lower = matches!(fault, Some(Action::LowercaseHeaders));
        let mut out = Vec::with_capacity(self.body.len() + 256);
        write!(out, "HTTP/1.1 {} {}\r\n", self.status, reason(self.status))?;
        for (k, v) in &self.headers {
            let name = if lower { k.to_ascii_lowercase() } else { k.clone() };
            write!(out, "{name}: {v}\r\n")?;
        }
        out.extend_from_slice(b"\r\n");
        let split = out.len() + self.body.len() / 2;
        out.extend_from_slice(&self.body);
        if let Some(Action::SlowBody(pause)) = fault {
            stream.write_all(&out[..split])?;
            stream.flush()?;
            std::thread::sleep(*pause);
            out.drain(..split);
        }
        stream.write_all(&out)?;
        stream.flush()?;
        Ok(keep_alive && !matches!(fault, Some(Action::Truncated | Action::DropMidBody)))
    }
}

/// `body` in three chunks, with the last-chunk marker.
fn chunked(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 32);
    for piece in body.chunks(body.len().div_ceil(3).max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A 200 whose JSON array never ends, until the client gives up (bounded at 4 GiB or 5 minutes).
pub fn write_endless(stream: &mut impl Write, stop: &AtomicBool) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    let opening = r#"{"responseStatus":"SUCCESS","data":["#;
    let item = r#"{"part_number":1,"size":1,"part_content_md5":null},"#;
    let chunk_body = item.repeat(65536 / item.len());
    let chunk = format!("{:x}\r\n{chunk_body}\r\n", chunk_body.len());
    let started = Instant::now();
    if write!(stream, "{head}{:x}\r\n{opening}\r\n", opening.len()).is_err() {
        return;
    }
    let mut sent = 0usize;
    while !stop.load(Ordering::Relaxed) && sent < 4 << 30 && started.elapsed() < Duration::from_secs(300) {
        if stream.write_all(chunk.as_bytes()).is_err() {
            return;
        }
        sent += chunk.len();
    }
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_with_keep_alive_rules() {
        let raw = b"GET /a?b=c HTTP/1.0\r\nHost: x\r\nConnection:  Keep-Alive \r\n\r\nGET";
        let (r, len) = parse_head(raw).unwrap().unwrap();
        assert_eq!((r.method.as_str(), r.path_and_query(), len), ("GET", ("/a", "b=c"), raw.len() - 3));
        assert!(!r.http11 && r.keep_alive());
        assert_eq!(r.header("CONNECTION"), Some("Keep-Alive"));
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        assert!(parse_head(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n").is_err());
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        assert!(parse_head(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()).is_err());
    }

    fn wire(fault: Option<&Action>, keep_alive: bool) -> (String, bool) {
        let mut out = Vec::new();
        let keep = Response::json("0123456789").write_to(&mut out, keep_alive, fault).unwrap();
        (String::from_utf8_lossy(&out).into_owned(), keep)
    }

    #[test]
    fn wire_faults_shape_the_bytes() {
        let ct = "Content-Type: application/json;charset=UTF-8\r\n";
        assert_eq!(wire(None, true), (format!("HTTP/1.1 200 OK\r\n{ct}Content-Length: 10\r\n\r\n0123456789"), true));
        assert_eq!(
            wire(Some(&Action::Hang), false),
            (format!("HTTP/1.1 200 OK\r\n{ct}Content-Length: 10\r\nConnection: close\r\n\r\n0123456789"), false)
        );
        assert_eq!(
            wire(Some(&Action::Chunked), true).0,
            format!("HTTP/1.1 200 OK\r\n{ct}Transfer-Encoding: chunked\r\n\r\n4\r\n0123\r\n4\r\n4567\r\n2\r\n89\r\n0\r\n\r\n")
        );
        assert_eq!(
            wire(Some(&Action::Truncated), true),
            (format!("HTTP/1.1 200 OK\r\n{ct}Content-Length: 522\r\n\r\n0123456789"), false)
        );
        assert_eq!(
            wire(Some(&Action::DropMidBody), true),
            (format!("HTTP/1.1 200 OK\r\n{ct}Content-Length: 10\r\n\r\n01234"), false)
        );
        assert_eq!(
            wire(Some(&Action::LowercaseHeaders), true).0,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: 10\r\n\r\n0123456789"
        );
        let (gz, keep) = wire(Some(&Action::Gzip), true);
        assert!(keep && gz.contains("Content-Encoding: gzip\r\n"), "{gz}");
    }
}
