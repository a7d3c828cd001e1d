//! Just enough HTTP/1.1 for a test server: read one request head, write one response in a
//! single write (headers and body together, so Nagle and delayed ACK never stall keep-alive).

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};

const MAX_HEAD: usize = 64 * 1024;

pub struct Request {
    pub method: String,
    pub target: String,
    pub version: String,
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
            _ => self.version == "HTTP/1.1",
        }
    }
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
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).into_owned();
                self.buf.drain(..end + 4);
                let request =
                    parse_head(&head).ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "bad request head"))?;
                // GET has no body; skip one if a client sent it anyway.
                let body_len: usize = request.header("content-length").and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                self.skip(stream, stop, body_len)?;
                return Ok(Some(request));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "request head too large"));
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
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
                    ) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(head: &str) -> Option<Request> {
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let (method, target, version) = (first.next()?, first.next()?, first.next()?);
    let headers =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())).collect();
    Some(Request { method: method.into(), target: target.into(), version: version.into(), headers })
}

/// How a response is put on the wire: normally, or broken in one of the ways faults ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// Header names in lower case.
    Lowercase,
    /// Transfer-Encoding: chunked, in three chunks.
    Chunked,
    /// Content-Encoding: gzip.
    Gzip,
    /// Content-Length larger than the body sent; then the connection closes.
    Truncated,
    /// Half the body, then the connection closes.
    DropMid,
}

/// A response to write in one go.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub style: Style,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
            style: Style::Plain,
        }
    }

    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Response::new(200, "application/json;charset=UTF-8", body)
    }

    pub fn header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.into(), value.to_string()));
        self
    }

    /// Writes the whole response with one write; false when the connection must close after it.
    pub fn write_to(&self, stream: &mut impl Write, keep_alive: bool) -> io::Result<bool> {
        let mut body = self.body.clone();
        let mut headers = self.headers.clone();
        let mut keep = keep_alive;
        let mut content_length = Some(body.len());
        match self.style {
            Style::Plain | Style::Lowercase => {}
            Style::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&body)?;
                body = gz.finish()?;
                content_length = Some(body.len());
                headers.push(("Content-Encoding".into(), "gzip".into()));
            }
            Style::Chunked => {
                let mut chunked = Vec::new();
                for piece in body.chunks(body.len().div_ceil(3).max(1)) {
                    write!(chunked, "{:x}\r\n", piece.len())?;
                    chunked.extend_from_slice(piece);
                    chunked.extend_from_slice(b"\r\n");
                }
                chunked.extend_from_slice(b"0\r\n\r\n");
                body = chunked;
                content_length = None;
                headers.push(("Transfer-Encoding".into(), "chunked".into()));
            }
            Style::Truncated => {
                content_length = Some(body.len() + 512);
                keep = false;
            }
            Style::DropMid => {
                body.truncate(body.len() / 2);
                keep = false;
            }
        }
        if let Some(n) = content_length {
            headers.push(("Content-Length".into(), n.to_string()));
        }
        if !keep_alive {
            headers.push(("Connection".into(), "close".into()));
        }
        let mut out = Vec::with_capacity(body.len() + 256);
        write!(out, "HTTP/1.1 {} {}\r\n", self.status, reason(self.status))?;
        for (k, v) in &headers {
            let name = if self.style == Style::Lowercase { k.to_ascii_lowercase() } else { k.clone() };
            write!(out, "{name}: {v}\r\n")?;
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&body);
        stream.write_all(&out)?;
        stream.flush()?;
        Ok(keep)
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

/// Decodes %XX escapes (and nothing else) in a query value.
pub fn percent_decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
