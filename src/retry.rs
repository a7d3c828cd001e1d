//! The one retry loop every Vault call runs in (a page, a part, a commit, a job poll): attempts
//! with backoff and Retry-After, under the handle's interrupt and operation deadline, logged,
//! and failed with the call's context ("page 3 (GET url)", "part 7 (PUT url)"). One classifier
//! ([`retryable`]) decides what another attempt may fix.

use crate::backoff::Backoff;
use crate::cancel::Stop;
use crate::envelope::Answer;
use crate::error::{Error, ErrorKind};
use crate::log::{Level, Log};
use crate::settings::Settings;
use crate::transport::{stop_error, Reply, Request, Seen, Transport};
use std::fmt;
use std::time::Duration;

/// What went wrong in one attempt, as the classifier needs it.
#[derive(Debug)]
pub struct Failure {
    pub error: Error,
    pub cause: Cause,
    /// The wait the server asked for (Retry-After), a floor for the next one.
    pub retry_after: Option<Duration>,
    /// Some bytes of the request may have reached the server (set by the transport).
    pub sent: bool,
}

/// Where an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// An HTTP status other than 200, redirects followed.
    Status(u16),
    /// The connection failed, was refused, reset or closed early.
    Network,
    /// The attempt made no progress for its timeout.
    Timeout,
    /// Vault answered 200 with FAILURE or EXCEPTION; the error's kind tells which type.
    Vault,
    /// Vault answered that it stored other bytes than were sent (a part's echo): sending them
    /// again may fix it.
    Mismatch,
    /// Interrupted, or the operation's deadline passed.
    Stopped,
    /// Nothing another attempt could change: TLS, a broken answer, a refused redirect, the
    /// local request body.
    Final,
}

impl Failure {
    pub fn new(error: Error, cause: Cause) -> Failure {
        Failure { error, cause, retry_after: None, sent: false }
    }

    pub fn after(mut self, retry_after: Option<Duration>) -> Failure {
        self.retry_after = retry_after;
        self
    }

    /// An answer that broke the protocol: never retried.
    pub fn broken(error: Error) -> Failure {
        Failure::new(error, Cause::Final)
    }
}

/// The classifier: whether another attempt may succeed where this one failed. Gateways'
/// 500/502/503/504, network failures, timeouts and a part stored other than sent may pass; a rate limit (HTTP 429 or Vault's
/// API_LIMIT_EXCEEDED) passes after its Retry-After; INVALID_SESSION_ID, INSUFFICIENT_ACCESS,
/// every other status or Vault error type, and stops never do. A request that must not run
/// twice (a POST) is tried again only when none of it was written, or when the server said it
/// refused it unprocessed (the rate limits).
pub fn retryable(failure: &Failure, idempotent: bool) -> bool {
    let refused = match failure.cause {
        Cause::Status(429) => true,
        Cause::Vault => failure.error.kind() == ErrorKind::RateLimit,
        _ => false,
    };
    let may_pass = matches!(
        failure.cause,
        Cause::Status(500 | 502 | 503 | 504) | Cause::Network | Cause::Timeout | Cause::Mismatch
    );
    refused || (may_pass && (idempotent || !failure.sent))
}

/// A 200 body read as an envelope with `parse`: Vault's failure becomes [`Cause::Vault`] with
/// the answer's Retry-After; a violation is final.
pub fn answer<'a, D, R, T>(
    reply: &'a Reply,
    parse: impl FnOnce(&'a [u8]) -> Result<Answer<D, R>, Error>,
    accept: impl FnOnce(D, Option<R>) -> Result<T, Error>,
) -> Result<T, Failure> {
    match parse(&reply.body) {
        Ok(Answer::Success { data, details }) => accept(data, details).map_err(Failure::broken),
        Ok(Answer::Failed(e)) => Err(Failure::new(e, Cause::Vault).after(reply.retry_after)),
        Err(e) => Err(Failure::broken(e)),
    }
}

/// What a handle's requests saw, across every call (vault_parts_stats and the accessors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Traffic {
    /// The last X-VaultAPI-BurstLimitRemaining seen, -1 before any.
    pub burst_remaining: i64,
    /// The status of the last response, 0 before any.
    pub http_status: u16,
    pub requests: u64,
    pub retries: u64,
    /// Request-body bytes handed to connections, retries included.
    pub body_bytes_sent: u64,
}

impl Default for Traffic {
    fn default() -> Self {
        Traffic { burst_remaining: -1, http_status: 0, requests: 0, retries: 0, body_bytes_sent: 0 }
    }
}

impl Traffic {
    fn record(&mut self, seen: &Seen) {
        self.requests += seen.requests;
        self.body_bytes_sent += seen.body_bytes_sent;
        self.burst_remaining = seen.burst_remaining.unwrap_or(self.burst_remaining);
        self.http_status = seen.status.unwrap_or(self.http_status);
    }
}

/// The retry policy of a handle: how many attempts, and the waits between them.
pub struct Retry {
    backoff: Backoff,
    max_attempts: u32,
}

impl Retry {
    pub fn new(settings: &Settings) -> Retry {
        Retry {
            backoff: Backoff::new(settings.backoff_initial, settings.backoff_max),
            max_attempts: settings.max_attempts,
        }
    }

    /// Sends `request` until `read` accepts an answer, an attempt fails for good, the attempts
    /// run out, or the handle's stops end it. `what` names the call in log lines and in the
    /// error ("page 3", "part 7"), with the method and URL after it.
    pub fn call<T>(
        &mut self,
        transport: &Transport,
        request: &Request,
        what: &dyn fmt::Display,
        log: &mut Log,
        traffic: &mut Traffic,
        mut read: impl FnMut(Reply) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        let max = self.max_attempts;
        let idempotent = request.method.is_idempotent();
        let mut attempt = 1;
        loop {
            let failure = match transport.stops().check() {
                Err(stop) => Failure::new(stop_error(stop), Cause::Stopped),
                Ok(()) => {
                    let answer = transport.attempt(request, log);
                    traffic.record(&answer.seen);
                    match answer.result.and_then(&mut read) {
                        Ok(value) => return Ok(value),
                        Err(failure) => failure,
                    }
                }
            };
            let tries = if attempt > 1 { format!(" (after {attempt} attempts)") } else { String::new() };
            let context = format!("{what} ({} {}){tries}", request.method.as_str(), request.url);
            let fail = |error: Error| Err(error.with_retry_after(failure.retry_after).context(&context));
            if !retryable(&failure, idempotent) || attempt >= max {
                return fail(failure.error);
            }
            let wait = self.backoff.wait(attempt, failure.retry_after);
            let announce = || {
                log.emit(Level::Warn, || {
                    format!(
                        "{what}: attempt {attempt} of {max} failed ({}); retrying in {} ms",
                        failure.error,
                        wait.as_millis()
                    )
                })
            };
            match transport.stops().pause(wait, announce) {
                Ok(()) => {}
                Err(Stop::OperationDeadline) => {
                    return fail(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "the deadline was reached: the retry wait of {} ms would end past it \
                             (vault_parts_set_deadline_ms); attempt {attempt} failed: {}",
                            wait.as_millis(),
                            failure.error
                        ),
                    ))
                }
                Err(stop) => return fail(stop_error(stop)),
            }
            traffic.retries += 1;
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(cause: Cause, kind: ErrorKind, sent: bool) -> Failure {
        Failure { sent, ..Failure::new(Error::new(kind, "x"), cause) }
    }

    #[test]
    fn the_classifier_retries_what_may_pass() {
        use ErrorKind::*;
        for (cause, kind, idempotent_and_sent, post_sent, post_unsent) in [
            (Cause::Status(500), Http, true, false, true),
            (Cause::Status(502), Http, true, false, true),
            (Cause::Status(503), Http, true, false, true),
            (Cause::Status(504), Http, true, false, true),
            (Cause::Status(429), RateLimit, true, true, true),
            (Cause::Status(401), Auth, false, false, false),
            (Cause::Status(403), Access, false, false, false),
            (Cause::Status(404), Http, false, false, false),
            (Cause::Status(501), Http, false, false, false),
            (Cause::Network, Network, true, false, true),
            (Cause::Timeout, Timeout, true, false, true),
            (Cause::Vault, RateLimit, true, true, true),
            (Cause::Mismatch, Integrity, true, false, true),
            (Cause::Vault, Auth, false, false, false),
            (Cause::Vault, Access, false, false, false),
            (Cause::Vault, Vault, false, false, false),
            (Cause::Stopped, Cancelled, false, false, false),
            (Cause::Stopped, Timeout, false, false, false),
            (Cause::Final, Tls, false, false, false),
            (Cause::Final, Protocol, false, false, false),
            (Cause::Final, Io, false, false, false),
        ] {
            assert_eq!(retryable(&failure(cause, kind, true), true), idempotent_and_sent, "{cause:?} {kind:?}");
            assert_eq!(retryable(&failure(cause, kind, false), true), idempotent_and_sent, "{cause:?} {kind:?}");
            assert_eq!(retryable(&failure(cause, kind, true), false), post_sent, "POST {cause:?} {kind:?} sent");
            assert_eq!(retryable(&failure(cause, kind, false), false), post_unsent, "POST {cause:?} {kind:?}");
        }
    }
}

#[cfg(test)]
mod loop_tests {
    use super::*;
    use crate::cancel::{Deadline, Stops};
    use crate::envelope;
    use crate::loopback::{Reply as R, Server};
    use crate::transport::tests::{transport, transport_to};
    use crate::transport::Method;
    use serde::de::IgnoredAny;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    const MS: Duration = Duration::from_millis(1);

    fn retry(attempts: u32) -> Retry {
        let mut settings = Settings::default();
        settings.set_max_attempts(attempts).unwrap();
        settings.set_backoff_ms(1, 60_000).unwrap();
        Retry::new(&settings)
    }

    fn logged() -> (Log, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let mut log = Log::default();
        let sink = lines.clone();
        log.set_sink(Some(Box::new(move |_, line| sink.lock().unwrap().push(line.to_owned()))));
        (log, lines)
    }

    /// Reads any envelope; SUCCESS gives ().
    fn envelope_of(reply: Reply) -> Result<(), Failure> {
        answer(&reply, envelope::parse::<IgnoredAny, IgnoredAny>, |_, _| Ok(()))
    }

    const OK: &str = r#"{"responseStatus":"SUCCESS"}"#;

    fn vault_error(kind: &str) -> String {
        format!(r#"{{"responseStatus":"FAILURE","errors":[{{"type":"{kind}","message":"no"}}]}}"#)
    }

    #[test]
    fn a_gateway_error_is_retried_and_counted_once() {
        let server = Server::start(|n, _| if n == 1 { R::status("503 Service Unavailable") } else { R::json(OK) });
        let (t, (mut log, lines), mut traffic) =
            (transport(&server, Duration::from_secs(5)), logged(), Traffic::default());
        let request = Request::new(Method::Get, server.url("/p"));
        retry(3).call(&t, &request, &"page 1", &mut log, &mut traffic, envelope_of).unwrap();
        assert_eq!((traffic.requests, traffic.retries, traffic.http_status), (2, 1, 200));
        let warned: Vec<_> = lines.lock().unwrap().iter().filter(|l| l.contains("retrying")).cloned().collect();
        assert_eq!(warned.len(), 1, "{warned:?}");
        assert!(
            warned[0].starts_with("page 1: attempt 1 of 3 failed (HTTP 503 Service Unavailable from "),
            "{warned:?}"
        );
    }

    #[test]
    fn a_post_that_may_have_arrived_is_not_sent_again() {
        let server = Server::start(|_, _| R::Close);
        let (t, mut traffic) = (transport(&server, Duration::from_secs(5)), Traffic::default());
        let request = Request::new(Method::Post, server.url("/upload"));
        let error = retry(3).call(&t, &request, &"create", &mut Log::default(), &mut traffic, envelope_of).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Network);
        assert!(
            error.message().starts_with(&format!("create (POST {}): connection failed", server.url("/upload"))),
            "{error}"
        );
        assert_eq!((server.requests().len(), traffic.retries), (1, 0));
        // The same failure on a PUT is retried until the attempts run out.
        let request = Request::new(Method::Put, server.url("/upload/1"));
        let error = retry(3).call(&t, &request, &"part 1", &mut Log::default(), &mut traffic, envelope_of).unwrap_err();
        assert!(
            error.message().starts_with("part 1 (PUT ") && error.message().contains("(after 3 attempts)"),
            "{error}"
        );
        assert_eq!(server.requests().len(), 4);
    }

    #[test]
    fn a_refused_connection_lets_a_post_be_tried_again() {
        let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let url = format!("http://{refused}");
        let (t, mut traffic) = (transport_to(&url, Duration::from_secs(5), Stops::default()), Traffic::default());
        let request = Request::new(Method::Post, format!("{url}/upload"));
        let error = retry(2).call(&t, &request, &"create", &mut Log::default(), &mut traffic, envelope_of).unwrap_err();
        assert_eq!((error.kind(), traffic.retries), (ErrorKind::Network, 1), "{error}");
    }

    #[test]
    fn rate_limits_are_retried_after_their_wait_even_for_a_post() {
        let server = Server::start(|n, _| match n {
            1 => R::Answer("429 Too Many Requests", vec!["Retry-After: 0".into()], Vec::new()),
            2 => R::Answer("200 OK", vec!["Retry-After: 0".into()], vault_error("API_LIMIT_EXCEEDED").into_bytes()),
            _ => R::json(OK),
        });
        let (t, mut traffic) = (transport(&server, Duration::from_secs(5)), Traffic::default());
        let request = Request::new(Method::Post, server.url("/upload/u1"));
        retry(3).call(&t, &request, &"commit", &mut Log::default(), &mut traffic, envelope_of).unwrap();
        assert_eq!((server.requests().len(), traffic.retries), (3, 2));
    }

    #[test]
    fn vault_errors_other_than_the_rate_limit_end_the_call() {
        for kind in ["INVALID_SESSION_ID", "INSUFFICIENT_ACCESS", "INVALID_DATA"] {
            let body = vault_error(kind);
            let server = Server::start(move |_, _| R::json(&body));
            let (t, mut traffic) = (transport(&server, Duration::from_secs(5)), Traffic::default());
            let request = Request::new(Method::Get, server.url("/u/1"));
            let error = retry(3).call(&t, &request, &"details", &mut Log::default(), &mut traffic, envelope_of);
            let error = error.unwrap_err();
            assert_eq!(error.vault_type(), Some(kind));
            assert_eq!((server.requests().len(), traffic.retries), (1, 0), "{kind}");
        }
    }

    #[test]
    fn a_retry_wait_past_the_deadline_is_neither_started_nor_announced() {
        let server =
            Server::start(|_, _| R::Answer("503 Service Unavailable", vec!["Retry-After: 30".into()], Vec::new()));
        let stops = Stops { deadline: Deadline::after(Duration::from_secs(5)), ..Stops::default() };
        let t = transport_to(&server.url(""), Duration::from_secs(5), stops);
        let ((mut log, lines), mut traffic) = (logged(), Traffic::default());
        let started = Instant::now();
        let request = Request::new(Method::Get, server.url("/p"));
        let error = retry(3).call(&t, &request, &"page 1", &mut log, &mut traffic, envelope_of).unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "waited {:?}", started.elapsed());
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert!(error.message().contains("the retry wait of 30000 ms would end past it"), "{error}");
        assert_eq!(error.retry_after(), Some(Duration::from_secs(30)));
        assert!(!lines.lock().unwrap().iter().any(|l| l.contains("retrying")), "{:?}", lines.lock().unwrap());
        assert_eq!((server.requests().len(), traffic.retries), (1, 0));
    }

    #[test]
    fn an_interrupt_ends_a_hung_call_with_its_context() {
        let server = Server::start(|_, _| R::Hang);
        let stops = Stops::default();
        let t = transport_to(&server.url(""), Duration::from_secs(60), stops.clone());
        let raiser = std::thread::spawn(move || {
            std::thread::sleep(200 * MS);
            stops.interrupt.interrupt();
            Instant::now()
        });
        let request = Request::new(Method::Put, server.url("/u/1"));
        let error = retry(3)
            .call(&t, &request, &"part 2", &mut Log::default(), &mut Traffic::default(), envelope_of)
            .unwrap_err();
        let latency = Instant::now().saturating_duration_since(raiser.join().unwrap());
        assert_eq!(error.kind(), ErrorKind::Cancelled);
        assert_eq!(error.message(), format!("part 2 (PUT {}): interrupted", server.url("/u/1")));
        assert!(latency < 100 * MS, "{latency:?}");
        assert_eq!(server.requests().len(), 1);
    }
}
