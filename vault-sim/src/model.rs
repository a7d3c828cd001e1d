//! What the simulated Vault holds: users (session tokens), upload sessions and their faults.

use std::time::Duration;

/// A logged-in user: `token` is the session ID a client sends in Authorization.
#[derive(Clone, Debug)]
pub struct User {
    pub token: String,
    pub name: String,
    /// Admins may list any upload session; others only their own.
    pub admin: bool,
}

/// How next_page links are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkStyle {
    /// "http://host:port/api/...", as Vault does for this endpoint.
    Absolute,
    /// "/api/...", as other Vault endpoints do.
    Relative,
}

/// An upload session with `parts` parts already uploaded, numbered from 1.
#[derive(Clone, Debug)]
pub struct Upload {
    pub id: String,
    pub owner: String,
    pub parts: u32,
    pub part_size: u64,
    /// Size of the last part; `part_size` when None.
    pub last_part_size: Option<u64>,
    pub links: LinkStyle,
    pub faults: Vec<Fault>,
    /// The parts listed, in order, instead of `parts` synthetic ones (see file_upload.rs).
    pub listed: Option<Vec<crate::file_upload::SimPart>>,
}

impl Upload {
    pub fn new(id: &str, owner: &str, parts: u32) -> Self {
        Upload {
            id: id.into(),
            owner: owner.into(),
            parts,
            part_size: 5 * 1024 * 1024,
            last_part_size: None,
            links: LinkStyle::Absolute,
            faults: Vec::new(),
            listed: None,
        }
    }

    pub fn size_of(&self, part_number: u32) -> u64 {
        match self.last_part_size {
            Some(last) if part_number == self.parts => last,
            _ => self.part_size,
        }
    }

    pub fn fault(mut self, when: When, action: Action) -> Self {
        self.faults.push(Fault { when, action });
        self
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
}

/// What a fault does instead of (or to) the normal answer. The server and the response writer
/// both dispatch on it: Close, Hang and Endless take the connection; Gzip, Chunked, Truncated,
/// DropMidBody, LowercaseHeaders and SlowBody change how the answer is written; Delay and
/// After wait first; the others change the answer itself.
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
}

impl Action {
    /// Parses the command line form: `status=CODE[,RETRY_AFTER]`, `failure=TYPE`,
    /// `exception=TYPE`, `delay=MS`, `hang`, `close`, `body=TEXT`, `next_page=JSON`,
    /// `redirect=LOCATION`, `truncated`, `drop`, `endless`, `gzip`, `chunked`, `lowercase`,
    /// `warning`, `slow_body=MS`, `after=MS,ACTION`.
    pub fn parse(spec: &str) -> Result<Action, String> {
        let (name, arg) = spec.split_once('=').unwrap_or((spec, ""));
        let bad = || format!("fault action {spec:?} is not understood");
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
            "delay" => Action::Delay(Duration::from_millis(arg.parse().map_err(|_| bad())?)),
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
            "slow_body" => Action::SlowBody(Duration::from_millis(arg.parse().map_err(|_| bad())?)),
            "after" => {
                let (ms, then) = arg.split_once(',').ok_or_else(bad)?;
                Action::After(Duration::from_millis(ms.parse().map_err(|_| bad())?), Box::new(Action::parse(then)?))
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
        let when = match when {
            "all" => When::Always,
            w if w.starts_with("first") => When::FirstN(w[5..].parse().map_err(|_| format!("bad WHEN {w:?}"))?),
            w => When::Request(w.parse().map_err(|_| format!("bad WHEN {w:?}"))?),
        };
        Ok((id.to_owned(), Fault { when, action: Action::parse(action)? }))
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on, "127.0.0.1:0" for an ephemeral port.
    pub bind: String,
    pub users: Vec<User>,
    pub uploads: Vec<Upload>,
    /// X-VaultAPI-BurstLimit; each request lowers BurstLimitRemaining by one.
    pub burst_limit: i64,
    /// Serve HTTPS with this identity instead of plain HTTP.
    pub tls: Option<crate::tls::Identity>,
}

impl Default for Config {
    fn default() -> Self {
        Config { bind: "127.0.0.1:0".into(), users: Vec::new(), uploads: Vec::new(), burst_limit: 2000, tls: None }
    }
}

impl Config {
    pub fn user(mut self, token: &str, name: &str, admin: bool) -> Self {
        self.users.push(User { token: token.into(), name: name.into(), admin });
        self
    }

    pub fn upload(mut self, upload: Upload) -> Self {
        self.uploads.push(upload);
        self
    }
}

/// The MD5 the simulator reports for a part: 32 lowercase hex digits derived from the upload
/// ID and part number (stable across runs, different for every part).
pub fn md5_for(upload_id: &str, part_number: u32) -> String {
    let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
    for b in upload_id.bytes().chain(part_number.to_le_bytes()) {
        h1 = (h1 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    format!("{:016x}{:016x}", mix(h1), mix(h1 ^ 0x9e37_79b9_7f4a_7c15))
}

/// Every part of `upload` as (part_number, size, md5), in the order the simulator lists them.
pub fn expected_parts(upload: &Upload) -> Vec<(u32, u64, String)> {
    let parts = crate::file_upload::listed(upload, 0, upload.parts);
    parts.into_iter().map(|p| (p.number, p.size, p.md5.unwrap_or_default())).collect()
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
    fn md5s_are_32_hex_digits_and_distinct() {
        let a = md5_for("u", 1);
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_ne!(a, md5_for("u", 2));
        assert_ne!(a, md5_for("v", 1));
    }
}
