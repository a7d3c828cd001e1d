//! One HTTP attempt at a page: the request Vault expects, redirects followed only within the
//! origin, the body read under a cap, and every failure classified for the retry loop.

use crate::backoff::parse_retry_after;
use crate::cancel::{Deadline, Interrupt, Stop};
use crate::client::Client;
use crate::error::{Error, ErrorKind, Redactor};
use crate::log::{Level, Log};
use crate::net::{stop_of, IoStats, RequestContext};
use crate::origin::Origin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest page body accepted, enforced while reading.
pub(crate) const MAX_BODY: u64 = 8 * 1024 * 1024;
/// What is read of an error body only to keep the connection reusable.
const MAX_DRAIN: u64 = 64 * 1024;
const MAX_REDIRECTS: u32 = 5;

/// A failed attempt and whether another may help.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    pub retry: bool,
    pub retry_after: Option<Duration>,
}

impl Failure {
    pub fn fatal(error: Error) -> Self {
        Failure { error, retry: false, retry_after: None }
    }

    pub fn transient(error: Error, retry_after: Option<Duration>) -> Self {
        Failure { error, retry: true, retry_after }
    }
}

/// A 200 answer: its body and the Retry-After it carried (Vault may say API_LIMIT_EXCEEDED
/// in the body).
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
}

/// A listing's side of the network: its client's connections (shared or its own), its
/// session ID, and what stops its requests.
pub struct Transport {
    client: Client,
    session_id: String,
    client_id: String,
    /// Per attempt, across every redirect hop, connection to last byte of the final body.
    timeout: Duration,
    interrupt: Interrupt,
    /// The end of the whole listing.
    deadline: Deadline,
    stats: Arc<IoStats>,
}

impl Transport {
    pub fn new(client: Client, session_id: &str, limits: Limits) -> Self {
        Transport {
            client_id: client.client_id().to_owned(),
            client,
            session_id: session_id.to_owned(),
            timeout: limits.timeout,
            interrupt: limits.interrupt,
            deadline: limits.deadline,
            stats: limits.stats,
        }
    }

    /// One attempt at `url`, following same-origin redirects, all within one deadline and
    /// under the listing's interrupt: the context governs every socket call of every hop,
    /// whichever pooled connection it runs on.
    pub fn get(&mut self, origin: &Origin, url: &str, log: &mut Log) -> Attempt {
        let ctx = RequestContext {
            interrupt: self.interrupt.clone(),
            attempt: Deadline::after(self.timeout),
            listing: self.deadline,
            stats: self.stats.clone(),
        };
        let mut seen = Seen::default();
        let result = ctx.run(|| self.hops(origin, url, &ctx, &mut seen, log));
        Attempt { result, seen }
    }

    fn hops(
        &mut self,
        origin: &Origin,
        url: &str,
        ctx: &RequestContext,
        seen: &mut Seen,
        log: &mut Log,
    ) -> Result<Reply, Failure> {
        let mut url = url.to_owned();
        for _hop in 0..=MAX_REDIRECTS {
            match self.hop(origin, &url, ctx, seen, log)? {
                Hop::Answer(reply) => return Ok(reply),
                Hop::Redirect(next) => url = next,
            }
        }
        Err(Failure::fatal(Error::protocol(format!("more than {MAX_REDIRECTS} redirects"))))
    }

    /// One request of an attempt, within what is left of the attempt's deadline.
    fn hop(
        &mut self,
        origin: &Origin,
        url: &str,
        ctx: &RequestContext,
        seen: &mut Seen,
        log: &mut Log,
    ) -> Result<Hop, Failure> {
        let started = Instant::now();
        let mut response = self.send(origin, url, ctx, seen).inspect_err(|failure| {
            log.emit(Level::Debug, || {
                format!("GET {url} failed after {} ms: {}", started.elapsed().as_millis(), failure.error)
            });
        })?;
        let head = Head::of(&response);
        seen.status = Some(head.status);
        if head.burst_remaining.is_some() {
            seen.burst_remaining = head.burst_remaining;
        }
        if head.status == 200 {
            let body = self.read_body(&mut response).map(|body| Reply { body, retry_after: head.retry_after });
            log.emit(Level::Debug, || {
                let size = body
                    .as_ref()
                    .map_or_else(|f| format!("body failed: {}", f.error), |r| format!("{} bytes", r.body.len()));
                format!("GET {url} -> 200 in {} ms ({size})", started.elapsed().as_millis())
            });
            return body.map(Hop::Answer);
        }
        // Read what is cheap of an error body so the connection stays usable; a stop while
        // draining still stops the attempt.
        if let Err(e) = response.body_mut().with_config().limit(MAX_DRAIN).read_to_vec() {
            if let Some(stop) = stop_of(&e) {
                return Err(self.stopped(stop));
            }
        }
        log.emit(Level::Debug, || format!("GET {url} -> {} in {} ms", head.status, started.elapsed().as_millis()));
        head.not_ok(origin, log).map(Hop::Redirect)
    }

    fn send(
        &self,
        origin: &Origin,
        url: &str,
        ctx: &RequestContext,
        seen: &mut Seen,
    ) -> Result<ureq::http::Response<ureq::Body>, Failure> {
        ctx.interrupt.check().map_err(|stop| self.stopped(stop))?;
        if ctx.attempt.has_passed() {
            let ms = self.timeout.as_millis();
            let error =
                Error::new(ErrorKind::Timeout, format!("timed out (the attempt's {ms} ms ran out between redirects)"));
            return Err(Failure::transient(error, None));
        }
        seen.requests += 1;
        self.client
            .agent(origin.is_secure())
            .get(url)
            .header("Authorization", &self.session_id)
            .header("Accept", "application/json")
            .header("X-VaultAPI-ClientID", &self.client_id)
            .call()
            .map_err(|e| self.classify(e))
    }

    /// The body of a 200 answer, cut at MAX_BODY while reading.
    fn read_body(&self, response: &mut ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, Failure> {
        response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                Failure::fatal(Error::protocol(format!("the response body is larger than {} MiB", MAX_BODY >> 20)))
            }
            other => self.classify(other),
        })
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
                Failure::transient(
                    Error::new(ErrorKind::Timeout, format!("timed out (the attempt's {ms} ms ran out)")),
                    None,
                )
            }
            other => Failure::fatal(stop_error(other)),
        }
    }
}

/// What stops a listing's requests, handed to its transport.
pub struct Limits {
    pub timeout: Duration,
    pub interrupt: Interrupt,
    pub deadline: Deadline,
    pub stats: Arc<IoStats>,
}

/// The error a listing ends with when it is interrupted or its deadline passes.
pub fn stop_error(stop: Stop) -> Error {
    match stop {
        Stop::Cancelled => Error::new(ErrorKind::Cancelled, "interrupted by vault_parts_interrupt"),
        Stop::AttemptTimeout => Error::new(ErrorKind::Timeout, "timed out (the attempt ran out of time)"),
        Stop::ListingDeadline => {
            Error::new(ErrorKind::Timeout, "the listing's deadline was reached (vault_parts_set_deadline_ms)")
        }
    }
}

/// Where one request of an attempt led.
enum Hop {
    Answer(Reply),
    Redirect(String),
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
    fn not_ok(self, origin: &Origin, log: &mut Log) -> Result<String, Failure> {
        let error = |kind| Error::new(kind, format!("{} from {}", self.status_text, origin.base()));
        match self.status {
            301 | 302 | 303 | 307 | 308 => {
                let Some(location) = self.location else {
                    let text = &self.status_text;
                    return Err(Failure::fatal(Error::protocol(format!("{text} without a Location header"))));
                };
                let url = resolve(origin, &location, log.redactor())
                    .map_err(|why| Failure::fatal(Error::protocol(format!("redirect refused: {why}"))))?;
                log.emit(Level::Info, || format!("following {} redirect to {url}", self.status));
                Ok(url)
            }
            401 => Err(Failure::fatal(error(ErrorKind::Auth))),
            403 => Err(Failure::fatal(error(ErrorKind::Access))),
            429 => Err(Failure::transient(error(ErrorKind::RateLimit), self.retry_after)),
            500 | 502 | 503 | 504 => Err(Failure::transient(error(ErrorKind::Http), self.retry_after)),
            _ => Err(Failure::fatal(error(ErrorKind::Http))),
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

/// Maps ureq's errors to the C API's classes. TLS failures can arrive wrapped in io::Error,
/// so the cause chain decides, not the outer variant.
fn classify(e: ureq::Error) -> Failure {
    use ureq::Error as U;
    let msg = e.to_string();
    match e {
        U::Timeout(what) => Failure::transient(Error::new(ErrorKind::Timeout, format!("timed out ({what})")), None),
        U::Io(io) if caused_by_tls(&io) => Failure::fatal(Error::new(ErrorKind::Tls, format!("TLS failure: {io}"))),
        U::Io(io) if matches!(io.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock) => {
            Failure::transient(Error::new(ErrorKind::Timeout, format!("timed out: {io}")), None)
        }
        U::Io(io) => Failure::transient(Error::new(ErrorKind::Network, format!("connection failed: {io}")), None),
        U::HostNotFound | U::ConnectionFailed | U::ConnectProxyFailed(_) => {
            Failure::transient(Error::new(ErrorKind::Network, format!("connection failed: {msg}")), None)
        }
        U::Tls(_) | U::Rustls(_) | U::Pem(_) | U::TlsRequired => {
            Failure::fatal(Error::new(ErrorKind::Tls, format!("TLS failure: {msg}")))
        }
        U::InvalidProxyUrl => Failure::fatal(Error::new(ErrorKind::Network, format!("proxy setting unusable: {msg}"))),
        _ => Failure::fatal(Error::protocol(format!("the server broke HTTP: {msg}"))),
    }
}

fn caused_by_tls(io: &std::io::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = io.get_ref().map(|e| e as _);
    while let Some(e) = cause {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(inner) = e.downcast_ref::<std::io::Error>() {
            if let Some(i) = inner.get_ref() {
                cause = Some(i as _);
                continue;
            }
        }
        cause = e.source();
    }
    false
}
