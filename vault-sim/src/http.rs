//! Just enough HTTP/1.1 for a test server: request heads parsed by httparse, request bodies
//! read whole (Content-Length or chunked, bounded) and hashed as they arrive, responses put on
//! the wire by hand, because wire faults need bytes no real server library would send.
//! A response goes out in a single write (headers and body together, on a TCP_NODELAY
//! socket), so Nagle and delayed ACK never stall keep-alive.

use md5::{Digest, Md5};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A request head larger than this is refused (the connection closes).
const MAX_HEAD: usize = 64 * 1024;
/// A request with more headers than this is refused (the connection closes).
const MAX_HEADERS: usize = 100;
/// Bytes asked of the socket per read: large, so a 50 MiB body takes few system calls.
const READ_CHUNK: usize = 256 * 1024;

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

/// How a request's body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes (0: no body).
    Length(u64),
    /// Transfer-Encoding: chunked.
    Chunked,
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

    /// True when the client waits for "100 Continue" before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.http11 && self.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// The target split at the first '?': (path, query).
    pub fn path_and_query(&self) -> (&str, &str) {
        self.target.split_once('?').unwrap_or((&self.target, ""))
    }

    /// How the body is delimited, or the answer refusing it: 400 for a Content-Length that is
    /// not one number or comes with chunked, 501 for another transfer coding, 413 for a
    /// Content-Length over `max_body`. The connection must close after a refusal, as the body
    /// cannot be skipped safely.
    pub fn framing(&self, max_body: u64) -> Result<Framing, Response> {
        let refuse = |status, why: &str| Err(Response::new(status, "text/plain", format!("vault-sim: {why}\n")));
        let lengths: Vec<&str> = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.as_str())
            .collect();
        if let Some(coding) = self.header("transfer-encoding") {
            if !coding.eq_ignore_ascii_case("chunked") {
                return refuse(501, &format!("transfer coding {coding:?} is not supported"));
            }
            if !lengths.is_empty() {
                return refuse(400, "Content-Length with Transfer-Encoding: chunked");
            }
            return Ok(Framing::Chunked);
        }
        let Some(first) = lengths.first() else { return Ok(Framing::Length(0)) };
        let Some(n) = first.parse::<u64>().ok().filter(|_| first.bytes().all(|b| b.is_ascii_digit())) else {
            return refuse(400, "Content-Length is not a number");
        };
        if lengths.iter().any(|l| l != first) {
            return refuse(400, "several different Content-Length headers");
        }
        if n > max_body {
            return refuse(413, &format!("a request body may have at most {max_body} bytes, this one has {n}"));
        }
        Ok(Framing::Length(n))
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

/// A request body as it was read.
pub struct Body {
    pub bytes: Vec<u8>,
    /// MD5 of `bytes`, computed as they arrived.
    pub md5: [u8; 16],
    pub end: BodyEnd,
}

impl Body {
    /// The body of a request refused before its body was read.
    pub fn unread() -> Body {
        Body { bytes: Vec::new(), md5: Md5::new().finalize().into(), end: BodyEnd::Cut }
    }
}

/// How reading a body ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyEnd {
    /// The whole body was read.
    Complete,
    /// Reading stopped where the caller asked, before the end.
    Cut,
    /// The peer closed (or the socket failed, or the server is stopping) before the end.
    Lost,
    /// A chunked body grew past the limit.
    TooLarge,
    /// The chunked framing was broken.
    Malformed,
}

/// Bytes of a body as they arrive, hashed once on the way in.
struct Sink {
    bytes: Vec<u8>,
    md5: Md5,
}

impl Sink {
    fn end(self, end: BodyEnd) -> Body {
        Body { bytes: self.bytes, md5: self.md5.finalize().into(), end }
    }
}

/// Reads requests from one connection, keeping bytes that arrive after a head.
pub struct Reader {
    buf: Vec<u8>,
}

/// What one attempt to get more bytes gave.
enum Filled {
    More,
    /// The peer closed or the server is stopping.
    End,
}

impl Reader {
    pub fn new() -> Self {
        Reader { buf: Vec::with_capacity(16 * 1024) }
    }

    /// The next request head; Ok(None) when the peer closed or the server is stopping. The
    /// stream must have a read timeout so `stop` is noticed. The body, if any, must be read
    /// with `body` before the next head.
    pub fn head(&mut self, stream: &mut impl Read, stop: &AtomicBool) -> io::Result<Option<Request>> {
        loop {
            if let Some((request, len)) = parse_head(&self.buf)? {
                self.buf.drain(..len);
                return Ok(Some(request));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(bad_head("request head too large"));
            }
            if let Filled::End = self.fill(stream, stop) {
                return Ok(None);
            }
        }
    }

    /// The body `framing` delimits, at most `max_body` bytes of it (a Length framing has been
    /// checked against it already), stopping after `cut_after` bytes when set.
    pub fn body(
        &mut self,
        stream: &mut impl Read,
        stop: &AtomicBool,
        framing: Framing,
        max_body: u64,
        cut_after: Option<u64>,
    ) -> Body {
        match framing {
            Framing::Length(n) => self.sized_body(stream, stop, n, cut_after),
            Framing::Chunked => self.chunked_body(stream, stop, max_body, cut_after),
        }
    }

    /// Reads straight into the body's own buffer, past what the head's read brought along.
    fn sized_body(&mut self, stream: &mut impl Read, stop: &AtomicBool, len: u64, cut_after: Option<u64>) -> Body {
        let want = cut_after.map_or(len, |c| c.min(len)) as usize;
        let mut sink = Sink { bytes: body_buffer(want), md5: Md5::new() };
        let buffered = want.min(self.buf.len());
        sink.bytes[..buffered].copy_from_slice(&self.buf[..buffered]);
        self.buf.drain(..buffered);
        sink.md5.update(&sink.bytes[..buffered]);
        let mut filled = buffered;
        while filled < want {
            let end = want.min(filled + READ_CHUNK * 4);
            match read_some(stream, stop, &mut sink.bytes[filled..end]) {
                Some(n) => {
                    sink.md5.update(&sink.bytes[filled..filled + n]);
                    filled += n;
                }
                None => {
                    sink.bytes.truncate(filled);
                    return sink.end(BodyEnd::Lost);
                }
            }
        }
        sink.end(if want as u64 == len { BodyEnd::Complete } else { BodyEnd::Cut })
    }

    fn chunked_body(&mut self, stream: &mut impl Read, stop: &AtomicBool, max: u64, cut_after: Option<u64>) -> Body {
        let mut sink = Sink { bytes: Vec::new(), md5: Md5::new() };
        let end = loop {
            let size = match self.chunk_size(stream, stop) {
                Ok(Some(size)) => size,
                Ok(None) => break BodyEnd::Lost,
                Err(_) => break BodyEnd::Malformed,
            };
            if size == 0 {
                break self.trailers(stream, stop);
            }
            if sink.bytes.len() as u64 + size > max {
                break BodyEnd::TooLarge;
            }
            if !self.copy_to(stream, stop, size as usize, &mut sink) {
                break BodyEnd::Lost;
            }
            match self.expect_crlf(stream, stop) {
                Ok(true) => {}
                Ok(false) => break BodyEnd::Lost,
                Err(_) => break BodyEnd::Malformed,
            }
            if cut_after.is_some_and(|c| sink.bytes.len() as u64 >= c) {
                break BodyEnd::Cut;
            }
        };
        sink.end(end)
    }

    /// The next chunk-size line: Ok(None) when the peer went away first.
    fn chunk_size(&mut self, stream: &mut impl Read, stop: &AtomicBool) -> io::Result<Option<u64>> {
        loop {
            match httparse::parse_chunk_size(&self.buf) {
                Ok(httparse::Status::Complete((used, size))) => {
                    self.buf.drain(..used);
                    return Ok(Some(size));
                }
                Ok(httparse::Status::Partial) if self.buf.len() < 1024 => {}
                _ => return Err(bad_head("bad chunk size line")),
            }
            if let Filled::End = self.fill(stream, stop) {
                return Ok(None);
            }
        }
    }

    fn copy_to(&mut self, stream: &mut impl Read, stop: &AtomicBool, mut n: usize, sink: &mut Sink) -> bool {
        while n > 0 {
            if self.buf.is_empty() && matches!(self.fill(stream, stop), Filled::End) {
                return false;
            }
            let k = n.min(self.buf.len());
            sink.md5.update(&self.buf[..k]);
            sink.bytes.extend_from_slice(&self.buf[..k]);
            self.buf.drain(..k);
            n -= k;
        }
        true
    }

    /// Consumes the CRLF after a chunk's data: Ok(false) when the peer went away first.
    fn expect_crlf(&mut self, stream: &mut impl Read, stop: &AtomicBool) -> io::Result<bool> {
        while self.buf.len() < 2 {
            if let Filled::End = self.fill(stream, stop) {
                return Ok(false);
            }
        }
        if &self.buf[..2] != b"\r\n" {
            return Err(bad_head("chunk data not followed by CRLF"));
        }
        self.buf.drain(..2);
        Ok(true)
    }

    /// Skips the trailer section after the last chunk, up to its empty line.
    fn trailers(&mut self, stream: &mut impl Read, stop: &AtomicBool) -> BodyEnd {
        loop {
            if let Some(at) = self.buf.windows(2).position(|w| w == b"\r\n") {
                self.buf.drain(..at + 2);
                if at == 0 {
                    return BodyEnd::Complete;
                }
                continue;
            }
            if self.buf.len() > MAX_HEAD {
                return BodyEnd::Malformed;
            }
            if let Filled::End = self.fill(stream, stop) {
                return BodyEnd::Lost;
            }
        }
    }

    fn fill(&mut self, stream: &mut impl Read, stop: &AtomicBool) -> Filled {
        let mut chunk = [0u8; 16 * 1024];
        match read_some(stream, stop, &mut chunk) {
            Some(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Filled::More
            }
            None => Filled::End,
        }
    }
}

/// A zeroed buffer for a body of `len` bytes. A large one asks for transparent huge pages:
/// storing a 50 MiB part then takes 25 page faults instead of 12,800.
fn body_buffer(len: usize) -> Vec<u8> {
    let buf = vec![0u8; len];
    #[cfg(target_os = "linux")]
    if len >= 4 << 20 {
        const HUGE: usize = 2 << 20;
        let start = buf.as_ptr() as usize;
        let (first, end) = (start.next_multiple_of(HUGE), (start + len) / HUGE * HUGE);
        if end > first {
            // SAFETY: advice on whole pages inside the allocation `buf` owns; it changes how
            // the kernel backs them, never what they hold.
            unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE) };
        }
    }
    buf
}

/// One read of at least a byte into `buf`, waiting through read timeouts; None when the peer
/// closed, the socket failed or `stop` was raised.
fn read_some(stream: &mut impl Read, stop: &AtomicBool, buf: &mut [u8]) -> Option<usize> {
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        match stream.read(buf) {
            Ok(0) => return None,
            Ok(n) => return Some(n),
            Err(e) if is_timeout(&e) => {}
            Err(_) => return None,
        }
    }
}

/// A connection the server may also reset.
pub trait Conn: Read + Write {
    /// Makes the coming close send RST instead of FIN (SO_LINGER with a zero timeout).
    fn linger_zero(&mut self);
}

impl Conn for TcpStream {
    #[cfg(unix)]
    fn linger_zero(&mut self) {
        use std::os::fd::AsRawFd;
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: setsockopt on a socket this stream owns, with a pointer to a live linger
        // struct and its exact size.
        unsafe {
            libc::setsockopt(
                self.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }

    #[cfg(not(unix))]
    fn linger_zero(&mut self) {}
}

impl Conn for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {
    fn linger_zero(&mut self) {
        self.sock.linger_zero();
    }
}

/// The errors a socket read timeout (used to poll the stop flag) shows up as.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}

/// How a response is put on the wire: plainly, or broken as a wire fault asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Plain,
    /// Content-Encoding: gzip.
    Gzip,
    /// Transfer-Encoding: chunked, in three chunks.
    Chunked,
    /// Content-Length larger than what is sent, then close.
    Truncated,
    /// Half of the body (Content-Length right), then close.
    DropMidBody,
    /// Every header name in lower case, as Vault sends over HTTP/2.
    LowercaseHeaders,
    /// The head and the first half of the body, a pause this long, then the rest.
    SlowBody(Duration),
}

/// A response, before the wire shapes it.
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

    /// Writes the response as `wire` says: with one write, but for SlowBody's two.
    /// Returns false when the connection must close after it.
    pub fn write_to(mut self, stream: &mut impl Write, keep_alive: bool, wire: Wire) -> io::Result<bool> {
        let mut content_length = Some(self.body.len());
        match wire {
            Wire::Gzip => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(&self.body)?;
                self.body = gz.finish()?;
                content_length = Some(self.body.len());
                self.headers.push(("Content-Encoding".into(), "gzip".into()));
            }
            Wire::Chunked => {
                self.body = chunked(&self.body);
                content_length = None;
                self.headers.push(("Transfer-Encoding".into(), "chunked".into()));
            }
            Wire::Truncated => content_length = Some(self.body.len() + 512),
            Wire::DropMidBody => self.body.truncate(self.body.len() / 2),
            Wire::Plain | Wire::LowercaseHeaders | Wire::SlowBody(_) => {}
        }
        if let Some(n) = content_length {
            self.headers.push(("Content-Length".into(), n.to_string()));
        }
        if !keep_alive {
            self.headers.push(("Connection".into(), "close".into()));
        }
        let lower = wire == Wire::LowercaseHeaders;
        let mut out = Vec::with_capacity(self.body.len() + 256);
        write!(out, "HTTP/1.1 {} {}\r\n", self.status, reason(self.status))?;
        for (k, v) in &self.headers {
            let name = if lower { k.to_ascii_lowercase() } else { k.clone() };
            write!(out, "{name}: {v}\r\n")?;
        }
        out.extend_from_slice(b"\r\n");
        let split = out.len() + self.body.len() / 2;
        out.extend_from_slice(&self.body);
        if let Wire::SlowBody(pause) = wire {
            stream.write_all(&out[..split])?;
            stream.flush()?;
            std::thread::sleep(pause);
            out.drain(..split);
        }
        stream.write_all(&out)?;
        stream.flush()?;
        Ok(keep_alive && !matches!(wire, Wire::Truncated | Wire::DropMidBody))
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
        100 => "Continue",
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
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

    fn wire(wire: Wire, keep_alive: bool) -> (String, bool) {
        let mut out = Vec::new();
        let keep = Response::json("0123456789").write_to(&mut out, keep_alive, wire).unwrap();
        (String::from_utf8_lossy(&out).into_owned(), keep)
    }

    #[test]
    fn wire_faults_shape_the_bytes() {
        let ct = "Content-Type: application/json;charset=UTF-8\r\n";
        assert_eq!(
            wire(Wire::Plain, true),
            (format!("HTTP/1.1 200 OK\r\n{ct}Content-Length: 10\r\n\r\n0123456789"), true)
        );
        assert_eq!(
            wire(Wire::Plain, false),
            (format!("HTTP/1.1 200 OK\r\n{ct}Content-Length: 10\r\nConnection: close\r\n\r\n0123456789"), false)
        );
        assert_eq!(
            wire(Wire::Chunked, true).0,
            format!("HTTP/1.1 200 OK\r\n{ct}Transfer-Encoding: chunked\r\n\r\n4\r\n0123\r\n4\r\n4567\r\n2\r\n89\r\n0\r\n\r\n")
        );
        assert_eq!(
            wire(Wire::Truncated, true),
            (format!("HTTP/1.1 200 OK\r\n{ct}Content-Length: 522\r\n\r\n0123456789"), false)
        );
        assert_eq!(
            wire(Wire::DropMidBody, true),
            (format!("HTTP/1.1 200 OK\r\n{ct}Content-Length: 10\r\n\r\n01234"), false)
        );
        assert_eq!(
            wire(Wire::LowercaseHeaders, true).0,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json;charset=UTF-8\r\ncontent-length: 10\r\n\r\n0123456789"
        );
        let (gz, keep) = wire(Wire::Gzip, true);
        assert!(keep && gz.contains("Content-Encoding: gzip\r\n"), "{gz}");
    }

    fn md5_of(bytes: &[u8]) -> [u8; 16] {
        Md5::digest(bytes).into()
    }

    /// Reads one head and its body from `raw` (at most `max` body bytes, cut after `cut`).
    fn read_one(raw: &[u8], max: u64, cut: Option<u64>) -> (Result<Framing, u16>, Option<Body>, Vec<u8>) {
        let stop = AtomicBool::new(false);
        let mut stream = raw;
        let mut reader = Reader::new();
        let head = reader.head(&mut stream, &stop).unwrap().unwrap();
        match head.framing(max) {
            Ok(framing) => {
                let body = reader.body(&mut stream, &stop, framing, max, cut);
                let mut rest = reader.buf.clone();
                rest.extend_from_slice(stream);
                (Ok(framing), Some(body), rest)
            }
            Err(refusal) => (Err(refusal.status), None, Vec::new()),
        }
    }

    #[test]
    fn sized_bodies_are_kept_and_hashed_and_the_next_head_stays() {
        let body: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut raw = format!("PUT /x HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
        raw.extend_from_slice(&body);
        raw.extend_from_slice(b"GET /next HTTP/1.1\r\n\r\n");
        let (framing, got, rest) = read_one(&raw, 1 << 20, None);
        let got = got.unwrap();
        assert_eq!(framing, Ok(Framing::Length(100_000)));
        assert_eq!((got.end, got.md5), (BodyEnd::Complete, md5_of(&body)));
        assert!(got.bytes == body);
        assert_eq!(rest, b"GET /next HTTP/1.1\r\n\r\n");
        let (_, cut, _) = read_one(&raw, 1 << 20, Some(50_000));
        let cut = cut.unwrap();
        assert_eq!((cut.end, cut.bytes.len(), cut.md5), (BodyEnd::Cut, 50_000, md5_of(&body[..50_000])));
        let (_, lost, _) = read_one(&raw[..raw.len() - 30_000], 1 << 20, None);
        assert_eq!(lost.unwrap().end, BodyEnd::Lost, "the peer closed before the end");
    }

    #[test]
    fn chunked_bodies_are_decoded_with_the_limit() {
        let raw = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        let (framing, got, rest) = read_one(raw, 100, None);
        let got = got.unwrap();
        assert_eq!(framing, Ok(Framing::Chunked));
        assert_eq!(
            (got.end, got.bytes.as_slice(), got.md5),
            (BodyEnd::Complete, &b"hello world"[..], md5_of(b"hello world"))
        );
        assert_eq!(rest, b"NEXT");
        assert_eq!(read_one(raw, 8, None).1.unwrap().end, BodyEnd::TooLarge);
        assert_eq!(read_one(raw, 100, Some(1)).1.unwrap().end, BodyEnd::Cut);
        let broken = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n";
        assert_eq!(read_one(broken, 100, None).1.unwrap().end, BodyEnd::Malformed);
        let bad_size = b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
        assert_eq!(read_one(bad_size, 100, None).1.unwrap().end, BodyEnd::Malformed);
    }

    #[test]
    fn framing_refusals() {
        let status = |head: &str| read_one(format!("POST /x HTTP/1.1\r\n{head}\r\n").as_bytes(), 10, None).0;
        assert_eq!(status(""), Ok(Framing::Length(0)));
        assert_eq!(status("Content-Length: 11\r\n"), Err(413));
        assert_eq!(status("Content-Length: -1\r\n"), Err(400));
        assert_eq!(status("Content-Length: +1\r\n"), Err(400));
        assert_eq!(status("Content-Length: 1\r\nContent-Length: 2\r\n"), Err(400));
        assert_eq!(status("Content-Length: 1\r\nTransfer-Encoding: chunked\r\n"), Err(400));
        assert_eq!(status("Transfer-Encoding: gzip\r\n"), Err(501));
    }
}
