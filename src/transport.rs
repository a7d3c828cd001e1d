//! One HTTP attempt at a page: the request Vault expects, redirects followed only within the
//! origin, the body read under a cap, and every failure classified for the retry loop.

use crate::backoff::parse_retry_after;
use crate::error::{Error, ErrorKind, Redactor};
use crate::log::{Level, Log};
use crate::origin::Origin;
use crate::settings::Settings;
use std::time::{Duration, Instant};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::Agent;

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

/// What one attempt produced, and the last X-VaultAPI-BurstLimitRemaining it saw.
pub struct Attempt {
    pub result: Result<Reply, Failure>,
    pub burst_remaining: Option<i64>,
}

/// One agent per handle, so its connection is kept alive across pages.
pub struct Transport {
    agent: Agent,
    session_id: String,
    client_id: String,
    /// Per attempt, across every redirect hop, connection to last byte of the final body.
    timeout: Duration,
}

impl Transport {
    pub fn new(settings: &Settings, session_id: &str, origin: &Origin) -> Self {
        let mut tls = TlsConfig::builder();
        if let Some(certs) = settings.trust.certs() {
            let certs: Vec<Certificate<'static>> =
                certs.into_iter().map(|der| Certificate::from_der(der).to_owned()).collect();
            tls = tls.root_certs(RootCerts::new_with_certs(&certs));
        }
        let mut config = Agent::config_builder();
        if !origin.is_secure() {
            // Plain http is only ever loopback: a proxy from the environment would be another
            // host receiving the session ID in clear.
            config = config.proxy(None);
        }
        let config = config
            .http_status_as_error(false)
            // Redirects are followed by hand, so every hop is checked against the origin.
            .max_redirects(0)
            .user_agent(concat!("libvault_parts/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls.build())
            .build();
        Transport {
            agent: Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::new(),
                crate::resolve::CachingResolver::default(),
            ),
            session_id: session_id.to_owned(),
            client_id: settings.client_id.clone(),
            timeout: settings.timeout,
        }
    }

    /// One attempt at `url`, following same-origin redirects, all within one deadline.
    pub fn get(&mut self, origin: &Origin, url: &str, log: &mut Log) -> Attempt {
        let mut burst_remaining = None;
        let deadline = Instant::now() + self.timeout;
        let result = self.hops(origin, url, deadline, &mut burst_remaining, log);
        Attempt { result, burst_remaining }
    }

    fn hops(
        &mut self,
        origin: &Origin,
        url: &str,
        deadline: Instant,
        burst_remaining: &mut Option<i64>,
        log: &mut Log,
    ) -> Result<Reply, Failure> {
        let mut url = url.to_owned();
        for _hop in 0..=MAX_REDIRECTS {
            match self.hop(origin, &url, deadline, burst_remaining, log)? {
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
        deadline: Instant,
        burst_remaining: &mut Option<i64>,
        log: &mut Log,
    ) -> Result<Hop, Failure> {
        let started = Instant::now();
        let mut response = self.send(url, deadline).inspect_err(|failure| {
            log.emit(Level::Debug, || {
                format!("GET {url} failed after {} ms: {}", started.elapsed().as_millis(), failure.error)
            });
        })?;
        let head = Head::of(&response);
        if head.burst_remaining.is_some() {
            *burst_remaining = head.burst_remaining;
        }
        if head.status == 200 {
            let body = read_body(&mut response).map(|body| Reply { body, retry_after: head.retry_after });
            log.emit(Level::Debug, || {
                let size = body
                    .as_ref()
                    .map_or_else(|f| format!("body failed: {}", f.error), |r| format!("{} bytes", r.body.len()));
                format!("GET {url} -> 200 in {} ms ({size})", started.elapsed().as_millis())
            });
            return body.map(Hop::Answer);
        }
        // Read what is cheap of an error body so the connection stays usable.
        let _ = response.body_mut().with_config().limit(MAX_DRAIN).read_to_vec();
        log.emit(Level::Debug, || format!("GET {url} -> {} in {} ms", head.status, started.elapsed().as_millis()));
        head.not_ok(origin, log).map(Hop::Redirect)
    }

    fn send(&self, url: &str, deadline: Instant) -> Result<ureq::http::Response<ureq::Body>, Failure> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let ms = self.timeout.as_millis();
            let error =
                Error::new(ErrorKind::Timeout, format!("timed out (the attempt's {ms} ms ran out between redirects)"));
            return Err(Failure::transient(error, None));
        }
        self.agent
            .get(url)
            .config()
            .timeout_global(Some(left))
            .build()
            .header("Authorization", &self.session_id)
            .header("Accept", "application/json")
            .header("X-VaultAPI-ClientID", &self.client_id)
            .call()
            .map_err(classify)
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

/// The body of a 200 answer, cut at MAX_BODY while reading.
fn read_body(response: &mut ureq::http::Response<ureq::Body>) -> Result<Vec<u8>, Failure> {
    response.body_mut().with_config().limit(MAX_BODY).read_to_vec().map_err(|e| match e {
        ureq::Error::BodyExceedsLimit(_) => {
            Failure::fatal(Error::protocol(format!("the response body is larger than {} MiB", MAX_BODY >> 20)))
        }
        other => classify(other),
    })
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
