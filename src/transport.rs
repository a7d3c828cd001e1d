//! One HTTP attempt at any Vault call: the request Vault expects (method, headers, a body
//! produced again for every attempt and hop), redirects followed only within the origin, the
//! answer read under a cap, and every failure described for the retry loop, which decides
//! (retry.rs).

use crate::backoff::parse_retry_after;
use crate::cancel::{AttemptClock, Stop, Stops};
use crate::client::Client;
use crate::error::{Error, ErrorKind, Redactor};
use crate::log::{Level, Log};
use crate::net::{stop_of, IoStats, RequestContext};
use crate::origin::Origin;
use crate::retry::{Cause, Failure};
use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};
use ureq::SendBody;

/// Largest page body accepted, enforced while reading.
pub(crate) const MAX_BODY: u64 = 8 * 1024 * 1024;
/// What is read of an error body only to keep the connection reusable.
const MAX_DRAIN: u64 = 64 * 1024;
const MAX_REDIRECTS: u32 = 5;
/// How much of an answer body one read asks for.
const READ_CHUNK: usize = 64 * 1024;

/// The HTTP methods Vault's calls use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        }
    }

    /// RFC 9110's rule: repeating the request has the effect of one. Vault's calls follow it
    /// (a part sent again under its number overwrites it; a POST creates or commits anew).
    pub fn is_idempotent(self) -> bool {
        self != Method::Post
    }

    /// Whether the request carries a body (Content-Length even when empty).
    fn has_body(self) -> bool {
        matches!(self, Method::Post | Method::Put)
    }
}

/// A request body that can be produced again, whole, for every attempt and redirect hop: a
/// retry never depends on a buffer an earlier attempt consumed.
pub trait Body {
    /// The number of bytes [`Body::reader`] yields: sent as Content-Length.
    fn len(&self) -> u64;

    /// A new reader of the body from its first byte. Yielding fewer or more than
    /// [`Body::len`] bytes, or an error, fails the attempt as a local error (never retried).
    fn reader(&self) -> io::Result<Box<dyn Read + '_>>;
}

/// Small bodies held in memory: a form.
impl Body for Vec<u8> {
    fn len(&self) -> u64 {
        self.len() as u64
    }

    fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(self.as_slice()))
    }
}

/// What a POST or PUT without a body sends.
const NO_BYTES: &Vec<u8> = &Vec::new();

/// One call's request, as every attempt sends it.
pub struct Request<'a> {
    pub method: Method,
    /// Absolute, within the origin.
    pub url: String,
    /// Sent after Authorization, Accept and X-VaultAPI-ClientID.
    pub headers: Vec<(&'static str, String)>,
    /// None for GET and DELETE; a POST or PUT without one sends an empty body.
    pub body: Option<&'a dyn Body>,
    /// The largest answer body accepted.
    pub max_answer: u64,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, url: impl Into<String>) -> Request<'a> {
        Request { method, url: url.into(), headers: Vec::new(), body: None, max_answer: MAX_BODY }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: &'a dyn Body) -> Self {
        self.body = Some(body);
        self
    }

    pub fn max_answer(mut self, max: u64) -> Self {
        self.max_answer = max;
        self
    }
}

/// A 200 answer: its body and the Retry-After it carried (Vault may say API_LIMIT_EXCEEDED
/// in the body).
#[derive(Debug)]
pub struct Reply {
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
}

/// What one attempt produced, and what it saw on the way.
pub struct Attempt {
    pub result: Result<Reply, Failure>,
    pub seen: Seen,
}

/// What the responses of one attempt told, whatever its outcome.
#[derive(Default)]
pub struct Seen {
    /// The last X-VaultAPI-BurstLimitRemaining.
    pub burst_remaining: Option<i64>,
    /// The status of the last response.
    pub status: Option<u16>,
    /// Requests sent (one per redirect hop).
    pub requests: u64,
    /// Request-body bytes handed to the connection, every hop counted.
    pub body_bytes_sent: u64,
}

/// A handle's side of the network: its client's connections (shared or its own), where the
/// requests go, the session ID they carry, and what stops them. The one owner of the stops:
/// the retry loop reads them here.
pub struct Transport {
    client: Client,
    origin: Origin,
    session_id: String,
    /// Per attempt, across every redirect hop: how long it may go without a body byte moving.
    timeout: Duration,
    stops: Stops,
    stats: Arc<IoStats>,
}

impl Transport {
    pub fn new(
        client: Client,
        origin: Origin,
        session_id: &str,
        timeout: Duration,
        stops: Stops,
        stats: Arc<IoStats>,
    ) -> Self {
        Transport { client, origin, session_id: session_id.to_owned(), timeout, stops, stats }
    }

    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    pub fn stops(&self) -> &Stops {
        &self.stops
    }

    /// One attempt at `request`, following same-origin redirects, all under one progress clock
    /// and the handle's stops: the context governs every socket call of every hop, whichever
    /// pooled connection it runs on.
    pub fn attempt(&self, request: &Request, log: &mut Log) -> Attempt {
        let ctx = RequestContext {
            stops: self.stops.clone(),
            attempt: AttemptClock::start(self.timeout),
            stats: self.stats.clone(),
        };
        let written = self.stats.bytes_written();
        let mut seen = Seen::default();
        let result = ctx.run(|| self.hops(request, &ctx, &mut seen, log));
        let sent = self.stats.bytes_written() != written;
        Attempt { result: result.map_err(|failure| Failure { sent, ..failure }), seen }
    }

    fn hops(&self, request: &Request, ctx: &RequestContext, seen: &mut Seen, log: &mut Log) -> Result<Reply, Failure> {
        let mut hop = Hop { method: request.method, url: request.url.clone(), body: request.body };
        for _ in 0..=MAX_REDIRECTS {
            match self.hop(&hop, request, ctx, seen, log)? {
                Next::Answer(reply) => return Ok(reply),
                Next::Redirect { status, url } => hop = hop.redirected(status, url)?,
            }
        }
        Err(Failure::new(Error::protocol(format!("more than {MAX_REDIRECTS} redirects")), Cause::Final))
    }

    /// One request of an attempt, within what is left of the attempt's time.
    fn hop(
        &self,
        hop: &Hop,
        request: &Request,
        ctx: &RequestContext,
        seen: &mut Seen,
        log: &mut Log,
    ) -> Result<Next, Failure> {
        let (started, method, url) = (Instant::now(), hop.method.as_str(), &hop.url);
        let mut response = self.send(hop, &request.headers, ctx, seen).inspect_err(|failure| {
            log.emit(Level::Debug, || {
                format!("{method} {url} failed after {} ms: {}", started.elapsed().as_millis(), failure.error)
            });
        })?;
        let head = Head::of(&response);
        seen.status = Some(head.status);
        seen.burst_remaining = head.burst_remaining.or(seen.burst_remaining);
        if head.status == 200 {
            let body = self.read_body(&mut response, request.max_answer, &ctx.attempt);
            let body = body.map(|body| Reply { body, retry_after: head.retry_after });
            log.emit(Level::Debug, || {
                let size = body
                    .as_ref()
                    .map_or_else(|f| format!("body failed: {}", f.error), |r| format!("{} bytes", r.body.len()));
                format!("{method} {url} -> 200 in {} ms ({size})", started.elapsed().as_millis())
            });
            return body.map(Next::Answer);
        }
        // Read what is cheap of an error body so the connection stays usable; a stop while
        // draining still stops the attempt.
        if let Err(e) = response.body_mut().with_config().limit(MAX_DRAIN).read_to_vec() {
            if let Some(stop) = stop_of(&e) {
                return Err(self.stopped(stop));
            }
        }
        log.emit(Level::Debug, || format!("{method} {url} -> {} in {} ms", head.status, started.elapsed().as_millis()));
        head.not_ok(&self.origin, log)
    }

    fn send(
        &self,
        hop: &Hop,
        headers: &[(&'static str, String)],
        ctx: &RequestContext,
        seen: &mut Seen,
    ) -> Result<ureq::http::Response<ureq::Body>, Failure> {
        ctx.stops.interrupt.check().map_err(|stop| self.stopped(stop))?;
        if ctx.attempt.deadline().has_passed() {
            let ms = self.timeout.as_millis();
            let error =
                Error::new(ErrorKind::Timeout, format!("timed out (the attempt's {ms} ms ran out between redirects)"));
            return Err(Failure::new(error, Cause::Timeout));
        }
        seen.requests += 1;
        let mut builder = ureq::http::Request::builder()
            .method(hop.method.as_str())
            .uri(&hop.url)
            .header("Authorization", &self.session_id)
            .header("Accept", "application/json")
            .header("X-VaultAPI-ClientID", self.client.client_id());
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let body = match (hop.body, hop.method.has_body()) {
            (Some(body), _) => Some(body),
            (None, true) => Some(NO_BYTES as &dyn Body),
            (None, false) => None,
        };
        let agent = self.client.agent(self.origin.is_secure());
        let Some(body) = body else {
            return agent.run(built(builder, SendBody::none())?).map_err(|e| self.classify(e));
        };
        let mut outgoing = Outgoing::of(body, &ctx.attempt).map_err(|e| local_body_failure(&e.to_string()))?;
        let builder = builder.header("Content-Length", body.len().to_string());
        let result = agent.run(built(builder, SendBody::from_reader(&mut outgoing))?);
        seen.body_bytes_sent += outgoing.sent;
        match (result, outgoing.failed) {
            (_, Some(why)) => Err(local_body_failure(&why)),
            (result, None) => result.map_err(|e| self.classify(e)),
        }
    }

    /// The body of a 200 answer, cut at `max` while reading; every chunk moves the clock.
    fn read_body(
        &self,
        response: &mut ureq::http::Response<ureq::Body>,
        max: u64,
        clock: &AttemptClock,
    ) -> Result<Vec<u8>, Failure> {
        let mut reader = response.body_mut().with_config().limit(max).reader();
        let mut body = Vec::new();
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(body),
                Ok(n) => {
                    clock.progressed();
                    body.extend_from_slice(&chunk[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(match ureq::Error::from(e) {
                        ureq::Error::BodyExceedsLimit(_) => Failure::new(
                            Error::protocol(format!("the response body is larger than {}", size_text(max))),
                            Cause::Final,
                        ),
                        other => self.classify(other),
                    })
                }
            }
        }
    }

    fn classify(&self, e: ureq::Error) -> Failure {
        match stop_of(&e) {
            Some(stop) => self.stopped(stop),
            None => classify(e),
        }
    }

    /// A stop as the retry loop sees it: only the attempt's own timeout may pass on retry.
    fn stopped(&self, stop: Stop) -> Failure {
        match stop {
            Stop::AttemptTimeout => {
                let ms = self.timeout.as_millis();
                Failure::new(
                    Error::new(ErrorKind::Timeout, format!("timed out (no progress for {ms} ms)")),
                    Cause::Timeout,
                )
            }
            other => Failure::new(stop_error(other), Cause::Stopped),
        }
    }
}

/// The request to hand to ureq. Our own URLs and headers are checked before; what fails here
/// came from a server (a link or redirect too long to send), so it is the server's violation.
fn built<'b>(
    builder: ureq::http::request::Builder,
    body: SendBody<'b>,
) -> Result<ureq::http::Request<SendBody<'b>>, Failure> {
    builder.body(body).map_err(|e| Failure::broken(Error::protocol(format!("the request cannot be sent: {e}"))))
}

/// "8 MiB", "64 KiB" or bytes.
fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

fn local_body_failure(why: &str) -> Failure {
    Failure::new(Error::new(ErrorKind::Io, format!("the request body could not be read: {why}")), Cause::Final)
}

/// The error a handle ends with when it is interrupted or its deadline passes. Neutral about
/// which function raised the interrupt: the listing, the verifier and the upload share it.
pub fn stop_error(stop: Stop) -> Error {
    match stop {
        Stop::Cancelled => Error::new(ErrorKind::Cancelled, "interrupted"),
        Stop::AttemptTimeout => Error::new(ErrorKind::Timeout, "timed out (the attempt ran out of time)"),
        Stop::OperationDeadline => {
            Error::new(ErrorKind::Timeout, "the deadline was reached (vault_parts_set_deadline_ms)")
        }
    }
}

/// One request of an attempt: the first, or where a redirect led.
struct Hop<'a> {
    method: Method,
    url: String,
    body: Option<&'a dyn Body>,
}

impl Hop<'_> {
    /// The request a redirect asks for: 307 and 308 repeat method and body; 303 becomes a GET
    /// without a body; 301 and 302 are followed for a GET only (for other methods clients
    /// disagree on what they mean, so they are refused rather than guessed).
    fn redirected(self, status: u16, url: String) -> Result<Self, Failure> {
        match (status, self.method) {
            (307 | 308, _) => Ok(Hop { url, ..self }),
            (303, _) => Ok(Hop { method: Method::Get, url, body: None }),
            (_, Method::Get) => Ok(Hop { url, ..self }),
            (_, method) => Err(Failure::new(
                Error::protocol(format!(
                    "HTTP {status} redirect for a {}: only 303, 307 and 308 redirect a request other than GET",
                    method.as_str()
                )),
                Cause::Final,
            )),
        }
    }
}

/// Where one request of an attempt led.
enum Next {
    Answer(Reply),
    Redirect { status: u16, url: String },
}

/// The request body as ureq reads it: exactly `len` bytes, each read moving the attempt's
/// clock. A source that fails or ends early is kept, so the failure is reported as the body's
/// (local) rather than as the network's.
struct Outgoing<'a> {
    source: Box<dyn Read + 'a>,
    left: u64,
    sent: u64,
    clock: &'a AttemptClock,
    failed: Option<String>,
}

impl<'a> Outgoing<'a> {
    fn of(body: &'a dyn Body, clock: &'a AttemptClock) -> io::Result<Outgoing<'a>> {
        Ok(Outgoing { source: body.reader()?, left: body.len(), sent: 0, clock, failed: None })
    }

    fn fail(&mut self, why: String) -> io::Error {
        let error = io::Error::other(why.clone());
        self.failed = Some(why);
        error
    }
}

impl Read for Outgoing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = match self.source.read(&mut buf[..want]) {
            Ok(0) => return Err(self.fail(format!("it ended {} bytes short", self.left))),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => return Err(self.fail(e.to_string())),
        };
        self.left -= n as u64;
        self.sent += n as u64;
        self.clock.progressed();
        Ok(n)
    }
}

/// What the attempt needs of a response's status line and headers.
struct Head {
    status: u16,
    status_text: String,
    burst_remaining: Option<i64>,
    retry_after: Option<Duration>,
    location: Option<String>,
}

impl Head {
    fn of(response: &ureq::http::Response<ureq::Body>) -> Head {
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let status = response.status().as_u16();
        let reason = response.status().canonical_reason().unwrap_or("");
        Head {
            status,
            status_text: format!("HTTP {status} {reason}").trim_end().to_owned(),
            burst_remaining: header("x-vaultapi-burstlimitremaining").and_then(|v| v.trim().parse().ok()),
            retry_after: header("retry-after").as_deref().and_then(parse_retry_after),
            location: header("location"),
        }
    }

    /// A status other than 200: the same-origin URL a redirect leads to, or the failure.
    fn not_ok(self, origin: &Origin, log: &mut Log) -> Result<Next, Failure> {
        let status = self.status;
        let failure = |kind| {
            let error = Error::new(kind, format!("{} from {}", self.status_text, origin.base()));
            Err(Failure::new(error, Cause::Status(status)).after(self.retry_after))
        };
        match status {
            301 | 302 | 303 | 307 | 308 => {
                let Some(location) = self.location else {
                    let text = &self.status_text;
                    let error = Error::protocol(format!("{text} without a Location header"));
                    return Err(Failure::new(error, Cause::Final));
                };
                let url = resolve(origin, &location, log.redactor())
                    .map_err(|why| Failure::new(Error::protocol(format!("redirect refused: {why}")), Cause::Final))?;
                log.emit(Level::Info, || format!("following {status} redirect to {url}"));
                Ok(Next::Redirect { status, url })
            }
            401 => failure(ErrorKind::Auth),
            403 => failure(ErrorKind::Access),
            429 => failure(ErrorKind::RateLimit),
            _ => failure(ErrorKind::Http),
        }
    }
}

/// Resolves a link the server sent against the origin. The reason for a refusal quotes the
/// link cut and escaped, so it is worded from the link with the session ID already removed.
pub fn resolve(origin: &Origin, link: &str, redactor: &Redactor) -> Result<String, String> {
    origin.resolve(link).map_err(|_| match origin.resolve(&redactor.redact(link)) {
        Err(why) => why,
        Ok(_) => "the link is not usable".to_owned(),
    })
}

/// Maps ureq's errors to the C API's classes and the retry loop's causes. TLS failures can
/// arrive wrapped in io::Error, so the cause chain decides, not the outer variant.
fn classify(e: ureq::Error) -> Failure {
    use ureq::Error as U;
    let msg = e.to_string();
    let (kind, cause, text) = match e {
        U::Timeout(what) => (ErrorKind::Timeout, Cause::Timeout, format!("timed out ({what})")),
        U::Io(io) if caused_by_tls(&io) => (ErrorKind::Tls, Cause::Final, format!("TLS failure: {io}")),
        U::Io(io) if matches!(io.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            (ErrorKind::Timeout, Cause::Timeout, format!("timed out: {io}"))
        }
        // The proxy rules' refusals (net.rs): the same settings would be refused again.
        U::Io(io) if matches!(io.kind(), io::ErrorKind::Unsupported | io::ErrorKind::PermissionDenied) => {
            (ErrorKind::Network, Cause::Final, format!("connection failed: {io}"))
        }
        U::Io(io) => (ErrorKind::Network, Cause::Network, format!("connection failed: {io}")),
        U::HostNotFound | U::ConnectionFailed | U::ConnectProxyFailed(_) => {
            (ErrorKind::Network, Cause::Network, format!("connection failed: {msg}"))
        }
        U::Tls(_) | U::Rustls(_) | U::Pem(_) | U::TlsRequired => {
            (ErrorKind::Tls, Cause::Final, format!("TLS failure: {msg}"))
        }
        U::InvalidProxyUrl => (ErrorKind::Network, Cause::Final, format!("proxy setting unusable: {msg}")),
        _ => (ErrorKind::Protocol, Cause::Final, format!("the server broke HTTP: {msg}")),
    };
    Failure::new(Error::new(kind, text), cause)
}

fn caused_by_tls(io: &io::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = io.get_ref().map(|e| e as _);
    while let Some(e) = cause {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = e.downcast_ref::<io::Error>() {
            if let Some(i) = inner.get_ref() {
                cause = Some(i as _);
                continue;
            }
        }
        cause = e.source();
    }
    false
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::client::{ClientSettings, ProxyRule};
    use crate::loopback::{Reply as R, Server};
    use std::cell::Cell;
    use std::thread;

    const MS: Duration = Duration::from_millis(1);
    const SID: &str = "sid-transport-test-0123456789";

    pub(crate) fn transport(server: &Server, timeout: Duration) -> Transport {
        transport_to(&server.url(""), timeout, Stops::default())
    }

    pub(crate) fn transport_to(url: &str, timeout: Duration, stops: Stops) -> Transport {
        let client = Client::new(&ClientSettings { proxy: ProxyRule::Never, ..ClientSettings::default() }).unwrap();
        let origin = Origin::parse_vault_url(url).unwrap();
        Transport::new(client, origin, SID, timeout, stops, Arc::default())
    }

    /// A body made by a function of the attempt: counts how often it was produced, and can
    /// pause before each read (a slow source) or lie about its length.
    struct Made {
        bytes: Vec<u8>,
        len: u64,
        pause: Duration,
        produced: Cell<u32>,
    }

    impl Made {
        fn new(bytes: &[u8]) -> Made {
            Made { len: bytes.len() as u64, bytes: bytes.to_vec(), pause: Duration::ZERO, produced: Cell::new(0) }
        }
    }

    struct Paced<'a> {
        rest: &'a [u8],
        pause: Duration,
    }

    impl Read for Paced<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            thread::sleep(self.pause);
            let n = buf.len().min(self.rest.len()).min(1000);
            buf[..n].copy_from_slice(&self.rest[..n]);
            self.rest = &self.rest[n..];
            Ok(n)
        }
    }

    impl Body for Made {
        fn len(&self) -> u64 {
            self.len
        }

        fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
            self.produced.set(self.produced.get() + 1);
            Ok(Box::new(Paced { rest: &self.bytes, pause: self.pause }))
        }
    }

    #[test]
    fn a_put_streams_its_body_with_content_length_and_no_expect() {
        let server = Server::start(|_, _| R::json(r#"{"responseStatus":"SUCCESS"}"#));
        let t = transport(&server, Duration::from_secs(5));
        let body = Made::new(&[7u8; 300_000]);
        let request = Request::new(Method::Put, server.url("/api/v25.3/x"))
            .header("Content-Type", "application/octet-stream")
            .header("X-VaultAPI-FilePartNumber", "7")
            .body(&body);
        let attempt = t.attempt(&request, &mut Log::default());
        assert_eq!(attempt.result.unwrap().body, br#"{"responseStatus":"SUCCESS"}"#);
        assert_eq!((attempt.seen.requests, attempt.seen.body_bytes_sent, attempt.seen.status), (1, 300_000, Some(200)));
        let seen = &server.requests()[0];
        assert_eq!((seen.method.as_str(), seen.target.as_str()), ("PUT", "/api/v25.3/x"));
        assert_eq!(seen.body, vec![7u8; 300_000]);
        assert_eq!(seen.header("Content-Length"), Some("300000"));
        assert_eq!(seen.header("Content-Type"), Some("application/octet-stream"));
        assert_eq!(seen.header("X-VaultAPI-FilePartNumber"), Some("7"));
        assert_eq!(seen.header("Authorization"), Some(SID));
        assert_eq!((seen.header("Expect"), seen.header("Transfer-Encoding")), (None, None));
        assert_eq!(body.produced.get(), 1);
    }

    #[test]
    fn a_post_without_a_body_sends_an_empty_one_and_a_get_none() {
        let server = Server::start(|_, _| R::json("{}"));
        let t = transport(&server, Duration::from_secs(5));
        for method in [Method::Post, Method::Get, Method::Delete] {
            t.attempt(&Request::new(method, server.url("/c")), &mut Log::default()).result.unwrap();
        }
        let seen = server.requests();
        let lengths: Vec<_> = seen.iter().map(|r| (r.method.as_str(), r.header("Content-Length"))).collect();
        assert_eq!(lengths, [("POST", Some("0")), ("GET", None), ("DELETE", None)]);
        assert!(seen.iter().all(|r| r.connection == 1), "one kept connection");
    }

    #[test]
    fn redirects_keep_or_change_the_method_as_their_status_says() {
        let server = Server::start(|_, r| match r.target.as_str() {
            "/307" => R::Answer("307 Temporary Redirect", vec!["Location: /308".into()], Vec::new()),
            "/308" => R::Answer("308 Permanent Redirect", vec!["Location: /303".into()], Vec::new()),
            "/303" => R::Answer("303 See Other", vec!["Location: /end".into()], Vec::new()),
            "/302" => R::Answer("302 Found", vec!["Location: /end".into()], Vec::new()),
            _ => R::json("{}"),
        });
        let t = transport(&server, Duration::from_secs(5));
        let body = Made::new(b"path=%2Fa&size=3");
        let attempt = t.attempt(&Request::new(Method::Post, server.url("/307")).body(&body), &mut Log::default());
        attempt.result.unwrap();
        let hops: Vec<_> =
            server.requests().iter().map(|r| (r.method.clone(), r.target.clone(), r.body.len())).collect();
        let expected = [("POST", "/307", 16), ("POST", "/308", 16), ("POST", "/303", 16), ("GET", "/end", 0)];
        assert_eq!(hops, expected.map(|(m, t, n)| (m.to_owned(), t.to_owned(), n)));
        assert_eq!(body.produced.get(), 3, "the body is produced again for every hop that sends it");
        assert_eq!((attempt.seen.requests, attempt.seen.body_bytes_sent), (4, 48));

        // 302 is followed for a GET only.
        t.attempt(&Request::new(Method::Get, server.url("/302")), &mut Log::default()).result.unwrap();
        let failure =
            t.attempt(&Request::new(Method::Put, server.url("/302")), &mut Log::default()).result.unwrap_err();
        assert_eq!((failure.error.kind(), failure.cause), (ErrorKind::Protocol, Cause::Final));
        assert!(failure.error.message().contains("HTTP 302 redirect for a PUT"), "{}", failure.error);
        assert_eq!(server.requests().len(), 7, "the PUT's redirect was not followed");
    }

    #[test]
    fn a_slow_body_that_keeps_moving_outlives_the_timeout_and_a_stall_does_not() {
        // Sent: 20 reads 50 ms apart (1 s) under a 300 ms timeout.
        let server = Server::start(|_, r| match r.target.as_str() {
            "/slow-answer" => R::Slowly(vec![b"0123456789".to_vec(); 20], 50 * MS),
            "/stalled-answer" => R::Slowly(vec![b"01234".to_vec(), b"56789".to_vec()], 900 * MS),
            _ => R::json("{}"),
        });
        let t = transport(&server, 300 * MS);
        let mut body = Made::new(&[1u8; 20_000]);
        body.pause = 50 * MS;
        let started = Instant::now();
        let put = Request::new(Method::Put, server.url("/slow-send")).body(&body);
        t.attempt(&put, &mut Log::default()).result.unwrap();
        assert!(started.elapsed() >= 900 * MS, "the body took {:?}", started.elapsed());
        // Received: 20 pieces 50 ms apart.
        let answer = t.attempt(&Request::new(Method::Get, server.url("/slow-answer")), &mut Log::default());
        assert_eq!(answer.result.unwrap().body.len(), 200);
        // A body that stops moving for longer than the timeout fails as a timeout.
        let started = Instant::now();
        let stalled = t.attempt(&Request::new(Method::Get, server.url("/stalled-answer")), &mut Log::default());
        let failure = stalled.result.unwrap_err();
        assert_eq!((failure.error.kind(), failure.cause), (ErrorKind::Timeout, Cause::Timeout));
        assert_eq!(failure.error.message(), "timed out (no progress for 300 ms)");
        assert!(started.elapsed() < 850 * MS, "{:?}", started.elapsed());
    }

    #[test]
    fn a_request_that_never_left_is_told_from_one_that_may_have_arrived() {
        let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let t = transport_to(&format!("http://{refused}"), Duration::from_secs(5), Stops::default());
        let failure = t.attempt(&Request::new(Method::Post, format!("http://{refused}/c")), &mut Log::default());
        let failure = failure.result.unwrap_err();
        assert_eq!((failure.cause, failure.sent), (Cause::Network, false), "{}", failure.error);

        let server = Server::start(|n, _| if n == 1 { R::Close } else { R::status("503 Service Unavailable") });
        let t = transport(&server, Duration::from_secs(5));
        for expected in [Cause::Network, Cause::Status(503)] {
            let failure = t.attempt(&Request::new(Method::Post, server.url("/c")), &mut Log::default());
            let failure = failure.result.unwrap_err();
            assert_eq!((failure.cause, failure.sent), (expected, true), "{}", failure.error);
        }
    }

    #[test]
    fn a_body_that_cannot_be_produced_is_a_local_error() {
        let server = Server::start(|_, _| R::json("{}"));
        let t = transport(&server, Duration::from_secs(5));
        let mut short = Made::new(&[1u8; 1000]);
        short.len = 1500;
        let failure = t.attempt(&Request::new(Method::Put, server.url("/p")).body(&short), &mut Log::default());
        let failure = failure.result.unwrap_err();
        assert_eq!((failure.error.kind(), failure.cause), (ErrorKind::Io, Cause::Final));
        assert_eq!(failure.error.message(), "the request body could not be read: it ended 500 bytes short");

        struct Unreadable;
        impl Body for Unreadable {
            fn len(&self) -> u64 {
                1
            }
            fn reader(&self) -> io::Result<Box<dyn Read + '_>> {
                Err(io::Error::other("the file changed"))
            }
        }
        let failure = t.attempt(&Request::new(Method::Put, server.url("/p")).body(&Unreadable), &mut Log::default());
        let failure = failure.result.unwrap_err();
        assert_eq!(failure.error.message(), "the request body could not be read: the file changed");
        assert!(!failure.sent, "nothing was written");
        assert_eq!(server.requests().len(), 0, "the short body never completed a request");
    }

    #[test]
    fn an_answer_larger_than_its_cap_is_refused() {
        let server = Server::start(|_, _| R::json(&"x".repeat(2048)));
        let t = transport(&server, Duration::from_secs(5));
        let failure = t.attempt(&Request::new(Method::Get, server.url("/p")).max_answer(1024), &mut Log::default());
        let failure = failure.result.unwrap_err();
        assert_eq!((failure.error.kind(), failure.cause), (ErrorKind::Protocol, Cause::Final));
        assert_eq!(failure.error.message(), "the response body is larger than 1 KiB");
        let ok = t.attempt(&Request::new(Method::Get, server.url("/p")).max_answer(2048), &mut Log::default());
        assert_eq!(ok.result.unwrap().body.len(), 2048);
    }

    #[test]
    fn log_lines_name_the_method() {
        let server = Server::start(|_, _| R::status("404 Not Found"));
        let t = transport(&server, Duration::from_secs(5));
        let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut log = Log::default();
        let sink = lines.clone();
        log.set_sink(Some(Box::new(move |_, line| sink.lock().unwrap().push(line.to_owned()))));
        let failure = t.attempt(&Request::new(Method::Delete, server.url("/u/1")), &mut log).result.unwrap_err();
        assert_eq!((failure.error.kind(), failure.cause), (ErrorKind::Http, Cause::Status(404)));
        let lines = lines.lock().unwrap();
        assert!(lines[0].starts_with(&format!("DELETE {} -> 404 in ", server.url("/u/1"))), "{lines:?}");
    }
}
