//! Faults: which requests they hit (`When`) and what they do (`Action`), and `Effect`, the one
//! place an `Action` is turned into what the server does with a request.

use crate::envelope;
use crate::http::{Response, Wire};
use std::time::Duration;

/// The kinds of request a fault can aim at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// POST .../file_staging/upload: numbered over the whole simulator.
    Create,
    /// GET .../file_staging/upload (list sessions): numbered over the whole simulator.
    Sessions,
    /// GET .../upload/{id}
    Details,
    /// GET .../upload/{id}/parts
    Parts,
    /// PUT .../upload/{id}
    Put,
    /// POST .../upload/{id}
    Commit,
    /// DELETE .../upload/{id}
    Abort,
    /// GET /api/{version}/services/jobs/{job} for a job of the session's commits.
    Job,
}

impl Endpoint {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Create => "create",
            Endpoint::Sessions => "sessions",
            Endpoint::Details => "details",
            Endpoint::Parts => "parts",
            Endpoint::Put => "put",
            Endpoint::Commit => "commit",
            Endpoint::Abort => "abort",
            Endpoint::Job => "job",
        }
    }

    /// The endpoints of one upload session (faults on them are numbered per session).
    pub const OF_A_SESSION: [Endpoint; 6] =
        [Endpoint::Details, Endpoint::Parts, Endpoint::Put, Endpoint::Commit, Endpoint::Abort, Endpoint::Job];

    fn of_a_session(name: &str) -> Option<Endpoint> {
        Endpoint::OF_A_SESSION.into_iter().find(|e| e.name() == name)
    }
}

/// A fault aimed at one kind of request.
#[derive(Clone, Debug)]
pub struct FaultOn {
    pub endpoint: Endpoint,
    pub fault: Fault,
}

/// Whose requests a fault given on the command line is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// The upload session with this ID (made at start).
    Upload(String),
    /// Every session a create makes, each counting its own requests.
    New,
    /// The simulator as a whole (creates, session lists).
    Vault,
}

/// A `--fault` flag: its target and the fault.
#[derive(Clone, Debug)]
pub struct FaultSpec {
    pub target: FaultTarget,
    pub fault: FaultOn,
}

impl FaultSpec {
    /// Parses `ID:WHEN:ACTION` (upload ID's part listings, as before), `ID:KIND:WHEN:ACTION`
    /// (KIND one of details, parts, put, commit, abort, job), `new:KIND:WHEN:ACTION` (every
    /// session a create makes), `create:WHEN:ACTION` and `sessions:WHEN:ACTION`.
    pub fn parse(spec: &str) -> Result<FaultSpec, String> {
        let bad = || {
            format!(
                "--fault {spec:?}: expected ID:WHEN:ACTION, ID:KIND:WHEN:ACTION, new:KIND:WHEN:ACTION, \
                 create:WHEN:ACTION or sessions:WHEN:ACTION"
            )
        };
        let (first, rest) = spec.split_once(':').ok_or_else(bad)?;
        let (target, endpoint, rest) = match first {
            "create" => (FaultTarget::Vault, Endpoint::Create, rest),
            "sessions" => (FaultTarget::Vault, Endpoint::Sessions, rest),
            _ => {
                let target = if first == "new" { FaultTarget::New } else { FaultTarget::Upload(first.into()) };
                let (kind, after) = rest.split_once(':').ok_or_else(bad)?;
                match Endpoint::of_a_session(kind) {
                    Some(endpoint) => (target, endpoint, after),
                    None if target == FaultTarget::New => return Err(bad()),
                    None => (target, Endpoint::Parts, rest),
                }
            }
        };
        let (when, action) = rest.split_once(':').ok_or_else(bad)?;
        let fault = Fault { when: When::parse(when)?, action: Action::parse(action)? };
        Ok(FaultSpec { target, fault: FaultOn { endpoint, fault } })
    }
}

/// A fault: `action` on the requests `when` selects.
#[derive(Clone, Debug)]
pub struct Fault {
    pub when: When,
    pub action: Action,
}

/// Which requests to this upload session (counted from 1) a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Always,
    /// Only the Nth request.
    Request(u32),
    /// Requests 1..=N.
    FirstN(u32),
}

impl When {
    pub fn matches(self, request: u32) -> bool {
        match self {
            When::Always => true,
            When::Request(n) => request == n,
            When::FirstN(n) => request <= n,
        }
    }

    /// Parses `all`, `N` (the Nth request) or `firstN`.
    pub fn parse(spec: &str) -> Result<When, String> {
        let bad = || format!("bad WHEN {spec:?}: expected all, N or firstN");
        Ok(match spec {
            "all" => When::Always,
            w if w.starts_with("first") => When::FirstN(w[5..].parse().map_err(|_| bad())?),
            w => When::Request(w.parse().map_err(|_| bad())?),
        })
    }
}

/// What a fault does instead of (or to) the normal answer; see `Effect` for how each one acts.
#[derive(Clone, Debug)]
pub enum Action {
    /// This HTTP status with this body (and Retry-After seconds, when set).
    Status { code: u16, body: String, retry_after: Option<u32> },
    /// HTTP 200 with responseStatus `status` ("FAILURE", "EXCEPTION") and one error.
    VaultError { status: String, kind: String, message: String },
    /// Wait, then answer normally.
    Delay(Duration),
    /// Never answer (until the server stops).
    Hang,
    /// HTTP 200 with exactly this body.
    Body(String),
    /// The normal page, with next_page replaced by this value (JSON, e.g. "null" or "\"/x\"";
    /// text that is not JSON gets an HTTP 500 saying so).
    NextPage(String),
    /// A redirect (302) to this Location.
    Redirect(String),
    /// Close the connection without answering.
    Close,
    /// The normal page with Content-Length larger than what is sent, then close.
    Truncated,
    /// Half of the normal page (Content-Length right), then close.
    DropMidBody,
    /// HTTP 200, chunked, a JSON array that never ends.
    Endless,
    /// The normal page, gzip-encoded (Content-Encoding: gzip).
    Gzip,
    /// The normal page in several chunks (Transfer-Encoding: chunked).
    Chunked,
    /// The normal page with every header name in lower case, as Vault sends over HTTP/2.
    LowercaseHeaders,
    /// The normal page with responseStatus WARNING and a warnings array.
    Warning,
    /// The normal page, sent as the head and the first half of the body, then a pause of this
    /// long, then the rest: a server slow in the middle of a body.
    SlowBody(Duration),
    /// Wait this long, then do the other action (e.g. a slow redirect).
    After(Duration, Box<Action>),
    /// Read about half the request body, then close the connection with RST.
    ResetMidBody,
    /// A part upload stores the bytes but answers with another part_content_md5.
    EchoMd5,
    /// A part upload stores the bytes but answers with a size one larger.
    EchoSize,
    /// On a commit, its job ends with this status; on a job status request, that answer
    /// reports this status.
    JobStatus(String),
}

impl Action {
    /// Parses the command line form: `status=CODE[,RETRY_AFTER]`, `failure=TYPE`,
    /// `exception=TYPE`, `delay=MS`, `hang`, `close`, `body=TEXT`, `next_page=JSON`,
    /// `redirect=LOCATION`, `truncated`, `drop`, `endless`, `gzip`, `chunked`, `lowercase`,
    /// `warning`, `slow_body=MS`, `after=MS,ACTION`, `reset_mid_body`, `echo_md5`,
    /// `echo_size`, `job=STATUS`.
    pub fn parse(spec: &str) -> Result<Action, String> {
        let (name, arg) = spec.split_once('=').unwrap_or((spec, ""));
        let bad = || format!("fault action {spec:?} is not understood");
        let millis = |arg: &str| arg.parse().map(Duration::from_millis).map_err(|_| bad());
        Ok(match name {
            "status" => {
                let (code, ra) = arg.split_once(',').map_or((arg, None), |(c, r)| (c, Some(r)));
                Action::Status {
                    code: code.parse().map_err(|_| bad())?,
                    body: String::new(),
                    retry_after: ra.map(|r| r.parse().map_err(|_| bad())).transpose()?,
                }
            }
            "failure" | "exception" => Action::VaultError {
                status: name.to_ascii_uppercase(),
                kind: arg.into(),
                message: format!("Simulated {arg}."),
            },
            "delay" => Action::Delay(millis(arg)?),
            "hang" => Action::Hang,
            "close" => Action::Close,
            "body" => Action::Body(arg.into()),
            "next_page" => {
                serde_json::from_str::<serde_json::Value>(arg).map_err(|_| bad())?;
                Action::NextPage(arg.into())
            }
            "redirect" => Action::Redirect(arg.into()),
            "truncated" => Action::Truncated,
            "drop" => Action::DropMidBody,
            "endless" => Action::Endless,
            "gzip" => Action::Gzip,
            "chunked" => Action::Chunked,
            "lowercase" => Action::LowercaseHeaders,
            "warning" => Action::Warning,
            "slow_body" => Action::SlowBody(millis(arg)?),
            "reset_mid_body" => Action::ResetMidBody,
            "echo_md5" => Action::EchoMd5,
            "echo_size" => Action::EchoSize,
            "job" if !arg.is_empty() && arg.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') => {
                Action::JobStatus(arg.into())
            }
            "after" => {
                let (ms, then) = arg.split_once(',').ok_or_else(bad)?;
                Action::After(millis(ms)?, Box::new(Action::parse(then)?))
            }
            _ => return Err(bad()),
        })
    }
}

impl Fault {
    /// Parses `UPLOAD_ID:WHEN:ACTION` where WHEN is `all`, `N` (the Nth request) or `firstN`.
    pub fn parse(spec: &str) -> Result<(String, Fault), String> {
        let mut it = spec.splitn(3, ':');
        let (Some(id), Some(when), Some(action)) = (it.next(), it.next(), it.next()) else {
            return Err(format!("--fault {spec:?}: expected UPLOAD_ID:WHEN:ACTION"));
        };
        Ok((id.to_owned(), Fault { when: When::parse(when)?, action: Action::parse(action)? }))
    }
}

/// What the server does in place of an answer, when a fault takes the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// Close without answering.
    Close,
    /// Hold the connection, never answering.
    Hang,
    /// A 200 whose body never ends.
    Endless,
    /// Read about half the body, then close with RST.
    ResetMidBody,
}

/// A change an endpoint makes to its own answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tweak<'a> {
    None,
    /// next_page is this JSON text.
    NextPage(&'a str),
    /// responseStatus WARNING with a warnings array.
    Warning,
    /// A part upload echoes another MD5.
    EchoMd5,
    /// A part upload echoes a size one larger.
    EchoSize,
    /// A commit's job ends with, or a job status answer reports, this status.
    JobStatus(&'a str),
}

/// A fault's action taken apart into the questions the server asks of every request, in the
/// order it asks them: wait how long, take the connection, answer with what instead, change
/// the answer how, write it how. No fault is the empty effect.
pub(crate) struct Effect<'a> {
    pub wait: Duration,
    pub take: Option<Take>,
    pub canned: Option<Response>,
    pub tweak: Tweak<'a>,
    pub wire: Wire,
}

impl<'a> Effect<'a> {
    pub fn of(action: Option<&'a Action>) -> Effect<'a> {
        let mut effect =
            Effect { wait: Duration::ZERO, take: None, canned: None, tweak: Tweak::None, wire: Wire::Plain };
        let Some(action) = action else { return effect };
        match action {
            Action::After(pause, then) => {
                effect = Effect::of(Some(then));
                effect.wait += *pause;
            }
            Action::Delay(pause) => effect.wait = *pause,
            Action::Close => effect.take = Some(Take::Close),
            Action::Hang => effect.take = Some(Take::Hang),
            Action::Endless => effect.take = Some(Take::Endless),
            Action::Status { code, body, retry_after } => {
                let r = Response::new(*code, "text/html", body.clone());
                effect.canned = Some(match retry_after {
                    Some(s) => r.header("Retry-After", s),
                    None => r,
                });
            }
            Action::VaultError { status, kind, message } => {
                effect.canned = Some(envelope::vault_error(status, kind, message))
            }
            Action::Body(body) => effect.canned = Some(Response::json(body.clone())),
            Action::Redirect(location) => {
                effect.canned = Some(Response::new(302, "text/html", "").header("Location", location))
            }
            Action::NextPage(json) => effect.tweak = Tweak::NextPage(json),
            Action::Warning => effect.tweak = Tweak::Warning,
            Action::Gzip => effect.wire = Wire::Gzip,
            Action::Chunked => effect.wire = Wire::Chunked,
            Action::Truncated => effect.wire = Wire::Truncated,
            Action::DropMidBody => effect.wire = Wire::DropMidBody,
            Action::LowercaseHeaders => effect.wire = Wire::LowercaseHeaders,
            Action::SlowBody(pause) => effect.wire = Wire::SlowBody(*pause),
            Action::ResetMidBody => effect.take = Some(Take::ResetMidBody),
            Action::EchoMd5 => effect.tweak = Tweak::EchoMd5,
            Action::EchoSize => effect.tweak = Tweak::EchoSize,
            Action::JobStatus(status) => effect.tweak = Tweak::JobStatus(status),
        }
        effect
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_flags_parse() {
        let (id, f) = Fault::parse("up1:2:status=503,7").unwrap();
        assert_eq!((id.as_str(), f.when), ("up1", When::Request(2)));
        assert!(matches!(f.action, Action::Status { code: 503, retry_after: Some(7), .. }));
        let (_, f) = Fault::parse("u:first3:failure=API_LIMIT_EXCEEDED").unwrap();
        assert_eq!(f.when, When::FirstN(3));
        assert!(
            matches!(f.action, Action::VaultError { ref status, ref kind, .. } if status == "FAILURE" && kind == "API_LIMIT_EXCEEDED")
        );
        let (_, f) = Fault::parse("u:all:next_page=\"/x?a=b:c\"").unwrap();
        assert!(matches!(f.action, Action::NextPage(ref l) if l == "\"/x?a=b:c\""));
        assert!(
            matches!(Fault::parse("u:all:delay=250").unwrap().1.action, Action::Delay(d) if d == Duration::from_millis(250))
        );
        let (_, f) = Fault::parse("u:first5:after=1900,redirect=/a?b=c,d").unwrap();
        assert!(matches!(f.action, Action::After(d, ref then)
            if d == Duration::from_millis(1900) && matches!(**then, Action::Redirect(ref l) if l == "/a?b=c,d")));
        assert!(
            matches!(Fault::parse("u:2:slow_body=300").unwrap().1.action, Action::SlowBody(d) if d.as_millis() == 300)
        );
        for bad in ["u:all:after=5", "u:all:after=x,hang", "u:all:after=5,explode", "u:all:slow_body="] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
        for bad in ["u", "u:all", "u:x:hang", "u:all:explode", "u:1:status=abc", "u:all:next_page=/x"] {
            assert!(Fault::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fault_specs_aim_at_endpoints() {
        let aim = |spec: &str| {
            let s = FaultSpec::parse(spec).unwrap();
            (s.target, s.fault.endpoint, s.fault.fault.when)
        };
        let up = |id: &str| FaultTarget::Upload(id.into());
        assert_eq!(aim("u1:2:close"), (up("u1"), Endpoint::Parts, When::Request(2)), "the old form: listings");
        assert_eq!(aim("u1:put:first2:reset_mid_body"), (up("u1"), Endpoint::Put, When::FirstN(2)));
        assert_eq!(aim("u1:parts:all:hang"), (up("u1"), Endpoint::Parts, When::Always));
        for kind in ["details", "commit", "abort", "job"] {
            assert_eq!(aim(&format!("x:{kind}:1:close")).1.name(), kind);
        }
        assert_eq!(aim("new:commit:1:job=CANCELLED"), (FaultTarget::New, Endpoint::Commit, When::Request(1)));
        assert_eq!(
            aim("create:all:failure=OPERATION_NOT_ALLOWED"),
            (FaultTarget::Vault, Endpoint::Create, When::Always)
        );
        assert_eq!(aim("sessions:3:status=503"), (FaultTarget::Vault, Endpoint::Sessions, When::Request(3)));
        let s = FaultSpec::parse("u:job:1:job=CANCELLED").unwrap();
        assert!(matches!(s.fault.fault.action, Action::JobStatus(ref j) if j == "CANCELLED"));
        for action in ["echo_md5", "echo_size", "reset_mid_body"] {
            assert!(FaultSpec::parse(&format!("u:put:1:{action}")).is_ok(), "{action}");
        }
        for bad in
            ["new:1:close", "new:list:1:close", "create:close", "u:put:1", "u:put:x:close", "u:1:job=", "u:1:job=no"]
        {
            assert!(FaultSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn effects_take_actions_apart() {
        let none = Effect::of(None);
        assert_eq!(
            (none.wait, none.take, none.canned.is_none(), none.tweak),
            (Duration::ZERO, None, true, Tweak::None)
        );
        let nested = Action::After(
            Duration::from_millis(5),
            Box::new(Action::After(Duration::from_millis(7), Box::new(Action::Delay(Duration::from_millis(11))))),
        );
        assert_eq!(Effect::of(Some(&nested)).wait, Duration::from_millis(23));
        let slow_hang = Action::After(Duration::from_millis(3), Box::new(Action::Hang));
        assert_eq!(Effect::of(Some(&slow_hang)).take, Some(Take::Hang));
        let status = Action::Status { code: 429, body: "x".into(), retry_after: Some(7) };
        let canned = Effect::of(Some(&status)).canned.unwrap();
        assert_eq!((canned.status, canned.body.as_slice()), (429, b"x".as_slice()));
        assert!(canned.headers.contains(&("Retry-After".into(), "7".into())));
        assert_eq!(Effect::of(Some(&Action::Truncated)).wire, Wire::Truncated);
        let next = Action::NextPage("null".into());
        assert_eq!(Effect::of(Some(&next)).tweak, Tweak::NextPage("null"));
        assert_eq!(Effect::of(Some(&Action::ResetMidBody)).take, Some(Take::ResetMidBody));
        let job = Action::JobStatus("CANCELLED".into());
        assert_eq!(Effect::of(Some(&job)).tweak, Tweak::JobStatus("CANCELLED"));
    }
}
