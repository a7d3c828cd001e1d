//! Vault's endpoints over the state in session.rs: which endpoint a request is for (`Route`),
//! who may call it, what its headers and form mean, and how its answer is written.

use crate::envelope::{failure, warned};
use crate::faults::{Action, Endpoint, Tweak};
use crate::http::{Body, Request, Response};
use crate::model::{md5_for, Config, LinkStyle, SimPart, User};
use crate::session::{JobAnswer, Refusal, Session, State, MAX_PART_NUMBER};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

/// The simulated Vault: its configuration and its state.
pub(crate) struct Vault {
    pub config: Config,
    state: Mutex<State>,
}

/// The endpoint a request is for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// No endpoint has this path.
    NotFound,
    /// An endpoint's path with a method it does not serve.
    Unsupported { method: String },
    /// `endpoint` of API `version`; `id` is the upload session (for Job, the job) the path
    /// names, empty for Create and Sessions.
    Call { endpoint: Endpoint, version: String, id: String },
}

impl Route {
    pub fn of(request: &Request) -> Route {
        let (path, _) = request.path_and_query();
        let Some((version, rest)) = path.strip_prefix("/api/").and_then(|r| r.split_once('/')) else {
            return Route::NotFound;
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let method = request.method.as_str();
        let (endpoint, id) = match (segments.as_slice(), method) {
            _ if !valid_version(version) => return Route::NotFound,
            (["services", "file_staging", "upload"], "POST") => (Endpoint::Create, ""),
            (["services", "file_staging", "upload"], "GET") => (Endpoint::Sessions, ""),
            (["services", "file_staging", "upload", id], _) if !id.is_empty() => match method {
                "GET" => (Endpoint::Details, *id),
                "PUT" => (Endpoint::Put, *id),
                "POST" => (Endpoint::Commit, *id),
                "DELETE" => (Endpoint::Abort, *id),
                _ => return Route::Unsupported { method: method.into() },
            },
            (["services", "file_staging", "upload", id, "parts"], "GET") if !id.is_empty() => (Endpoint::Parts, *id),
            (["services", "jobs", id], "GET") if !id.is_empty() => (Endpoint::Job, *id),
            (["services", "file_staging", "upload"], _) => return Route::Unsupported { method: method.into() },
            (["services", "file_staging", "upload", id, "parts"] | ["services", "jobs", id], _) if !id.is_empty() => {
                return Route::Unsupported { method: method.into() };
            }
            _ => return Route::NotFound,
        };
        Route::Call { endpoint, version: version.into(), id: id.into() }
    }
}

/// What the server knows of a request once its head is in: the fault that hits it, and for
/// a PUT, its place among the session's PUTs in flight until `end_put` (or drop).
pub(crate) struct Arrival<'a> {
    pub action: Option<Action>,
    put: Option<(&'a Vault, String)>,
}

impl Arrival<'_> {
    /// The PUT is no longer in flight: its answer is ready, or the server gave up on it.
    pub fn end_put(&mut self) {
        if let Some((vault, id)) = self.put.take() {
            vault.state().put_ended(&id);
        }
    }
}

impl Drop for Arrival<'_> {
    fn drop(&mut self) {
        self.end_put();
    }
}

impl Vault {
    pub fn new(config: Config) -> Vault {
        Vault { state: Mutex::new(State::new(&config)), config }
    }

    /// The state, its jobs settled up to now.
    pub fn state(&self) -> MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        state.settle(Instant::now());
        state
    }

    /// Counts the request where faults are numbered and notes a PUT's arrival.
    pub fn arrive(&self, route: &Route, request: &Request) -> Arrival<'_> {
        let Route::Call { endpoint, id, .. } = route else { return Arrival { action: None, put: None } };
        let mut state = self.state();
        let action = match endpoint {
            Endpoint::Create | Endpoint::Sessions => state.count(None, *endpoint),
            Endpoint::Job => {
                let upload = id.parse().ok().and_then(|job| state.job_session(job)).map(str::to_owned);
                upload.and_then(|upload| state.count(Some(&upload), Endpoint::Job))
            }
            _ => state.count(Some(id), *endpoint),
        };
        let mut put = None;
        if *endpoint == Endpoint::Put {
            state.put_arrived(id, request.header("x-vaultapi-filepartnumber").and_then(|n| n.parse().ok()));
            put = Some((self, id.clone()));
        }
        Arrival { action, put }
    }

    /// The endpoint's answer to `request` with `body`, changed as `tweak` says.
    pub fn answer(&self, route: &Route, request: &Request, body: Body, tweak: Tweak) -> Response {
        let response = match route {
            Route::NotFound => Response::new(404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>"),
            Route::Unsupported { method } => {
                failure("METHOD_NOT_SUPPORTED", &format!("Method [{method}] is not supported for this resource."))
            }
            Route::Call { endpoint, version, id } => {
                let call = Call { vault: self, request, version, tweak };
                call.answer(*endpoint, id, body).unwrap_or_else(|r| failure(r.kind, &r.message))
            }
        };
        if tweak == Tweak::Warning {
            warned(response)
        } else {
            response
        }
    }

    /// The user whose session ID the request carries (raw, or after "Bearer ").
    fn user(&self, request: &Request) -> Result<&User, Refusal> {
        let token = request.header("authorization").unwrap_or("");
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        let user = self.config.users.iter().find(|u| u.token == token);
        user.ok_or_else(|| Refusal::new("INVALID_SESSION_ID", "Invalid or expired session ID."))
    }

    /// Vault's integer ID for the user `name` (0 for an owner that is not a configured user).
    fn user_id(&self, name: &str) -> u64 {
        self.config.users.iter().position(|u| u.name == name).map_or(0, |i| 1_000_001 + i as u64)
    }
}

/// May `user` act on what `owner` owns: the owner and admins may.
fn may_act(user: &User, owner: &str) -> Result<(), Refusal> {
    if user.admin || user.name == owner {
        Ok(())
    } else {
        Err(Refusal::new("INSUFFICIENT_ACCESS", "User does not have sufficient privileges to perform the action."))
    }
}

/// One call being answered.
struct Call<'a> {
    vault: &'a Vault,
    request: &'a Request,
    version: &'a str,
    tweak: Tweak<'a>,
}

impl Call<'_> {
    fn answer(&self, endpoint: Endpoint, id: &str, body: Body) -> Result<Response, Refusal> {
        let user = self.vault.user(self.request)?;
        let mut state = self.vault.state();
        if endpoint == Endpoint::Create {
            return self.create(&mut state, user, &body.bytes);
        }
        if endpoint == Endpoint::Sessions {
            let visible = state.active_sessions().filter(|s| may_act(user, &s.owner).is_ok());
            let data: Vec<SessionData> = visible.map(|s| self.session_data(s)).collect();
            return Ok(success(data));
        }
        if endpoint == Endpoint::Job {
            return self.job(&mut state, user, id);
        }
        may_act(user, &state.active(id)?.owner)?;
        match endpoint {
            Endpoint::Details => Ok(success(self.session_data(state.active(id)?))),
            Endpoint::Parts => self.page(state.active(id)?),
            Endpoint::Put => self.put(&mut state, id, body),
            Endpoint::Commit => {
                let end = match self.tweak {
                    Tweak::JobStatus(status) => Some(status),
                    _ => None,
                };
                let job_id = state.commit(id, Instant::now(), end)?;
                Ok(success(serde_json::json!({ "job_id": job_id })))
            }
            Endpoint::Abort => {
                state.abort(id)?;
                Ok(Response::json(r#"{"responseStatus":"SUCCESS"}"#))
            }
            Endpoint::Create | Endpoint::Sessions | Endpoint::Job => unreachable!("answered above"),
        }
    }

    /// Create: the form's path, size and overwrite, checked, then a new session.
    fn create(&self, state: &mut State, user: &User, form: &[u8]) -> Result<Response, Refusal> {
        let form = parse_form(form);
        let required = |name: &str| {
            form.get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| Refusal::new("PARAMETER_REQUIRED", format!("Missing required parameter [{name}].")))
        };
        let (path, size) = (required("path")?, required("size")?);
        if !path.starts_with('/') || path.ends_with('/') {
            return Err(invalid("path", "an absolute path to a file"));
        }
        let size = size.parse::<u64>().ok().filter(|&n| n > 0).ok_or_else(|| invalid("size", "a number of bytes"))?;
        let overwrite = match form.get("overwrite").map(|v| v.to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "true" => true,
            Some(v) if v == "false" => false,
            Some(_) => return Err(invalid("overwrite", "true or false")),
        };
        let session = state.create(&user.name, path, size, overwrite)?;
        Ok(success(self.session_data(session)))
    }

    /// A part upload: its number and Content-Length required, a Content-MD5 (hex or base64)
    /// checked against the bytes, then stored.
    fn put(&self, state: &mut State, id: &str, body: Body) -> Result<Response, Refusal> {
        let header = |name: &str| self.request.header(name);
        let required = |name: &str| Refusal::new("PARAMETER_REQUIRED", format!("Missing required header [{name}]."));
        let number = header("x-vaultapi-filepartnumber").ok_or_else(|| required("X-VaultAPI-FilePartNumber"))?;
        let number =
            number.parse::<u32>().ok().filter(|n| (1..=MAX_PART_NUMBER).contains(n)).ok_or_else(|| {
                invalid("X-VaultAPI-FilePartNumber", &format!("a number from 1 to {MAX_PART_NUMBER}"))
            })?;
        header("content-length").ok_or_else(|| required("Content-Length"))?;
        if let Some(claimed) = header("content-md5") {
            let claimed = decode_md5(claimed).ok_or_else(|| invalid("Content-MD5", "an MD5 in hex or base64"))?;
            if claimed != body.md5 {
                return Err(Refusal::new("INVALID_DATA", "The Content-MD5 does not match the file part's bytes."));
            }
        }
        let mut part = state.put(id, number, body.bytes, body.md5)?;
        match self.tweak {
            Tweak::EchoMd5 => part.md5 = Some(md5_for("echo", number)),
            Tweak::EchoSize => part.size += 1,
            _ => {}
        }
        Ok(success(Part::from(&part)))
    }

    fn job(&self, state: &mut State, user: &User, id: &str) -> Result<Response, Refusal> {
        let unknown = || invalid("job_id", "the ID of a job");
        let job_id: u64 = id.parse().map_err(|_| unknown())?;
        let upload = state.job_session(job_id).ok_or_else(unknown)?;
        may_act(user, &state.get(upload).ok_or_else(unknown)?.owner)?;
        let reported = match self.tweak {
            Tweak::JobStatus(status) => Some(status),
            _ => None,
        };
        let answer = state.poll(job_id, Instant::now(), reported)?;
        Ok(Response::json(self.job_body(&answer)))
    }

    fn job_body(&self, job: &JobAnswer) -> String {
        let href = format!("/api/{}/services/jobs/{}", self.version, job.id);
        let mut data = serde_json::json!({
            "id": job.id,
            "status": job.status,
            "method": "POST",
            "links": [{"rel": "self", "href": href, "method": "GET", "accept": "application/json"}],
            "created_by": self.vault.user_id(&job.owner),
            "created_date": date(job.created),
        });
        for (key, at) in [("run_start_date", job.run_start), ("run_end_date", job.run_end)] {
            if let Some(at) = at {
                data[key] = date(at).into();
            }
        }
        let answer = JobEnvelope { response_status: "SUCCESS", response_message: "OK", data };
        serde_json::to_string(&answer).expect("a job answer serializes")
    }

    fn session_data<'s>(&self, s: &'s Session) -> SessionData<'s> {
        SessionData {
            path: &s.path,
            name: s.path.rsplit('/').next().unwrap_or(&s.path),
            id: &s.id,
            expiration_date: date(s.created + SESSION_LIFE),
            created_date: date(s.created),
            last_uploaded_date: date(s.last_uploaded),
            owner: self.vault.user_id(&s.owner),
            uploaded_parts: s.parts().len(),
            size: s.size,
            uploaded: s.uploaded(),
            overwrite: s.overwrite,
        }
    }

    fn page(&self, session: &Session) -> Result<Response, Refusal> {
        let (_, query) = self.request.path_and_query();
        let params: HashMap<&str, &str> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
        let limit = match params.get("limit") {
            None => 1000,
            Some(v) => v.parse::<u32>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
                Refusal::new("INVALID_DATA", "Invalid value for [limit]: must be a number between 1 and 1000.")
            })?,
        };
        let offset = match params.get("cursor") {
            None => 0,
            Some(c) => decode_cursor(session, &percent_decode_str(c).decode_utf8_lossy())
                .ok_or_else(|| Refusal::new("INVALID_DATA", "Invalid value for [cursor]."))?,
        };
        let next_page = match self.tweak {
            Tweak::NextPage(json) => match serde_json::from_str(json) {
                Ok(value) => Some(value),
                Err(e) => {
                    return Ok(Response::new(500, "text/plain", format!("vault-sim: NextPage fault is not JSON: {e}")))
                }
            },
            _ => self.next_link(session, offset, limit).map(Value::String),
        };
        let data = session.parts().skip(offset as usize).take(limit as usize).map(Part::from).collect();
        let page = Page { response_status: "SUCCESS", response_details: Details { next_page }, data };
        Ok(Response::json(serde_json::to_string(&page).expect("a page serializes")))
    }

    /// The link to the page after the one at `offset`, None on the last page.
    fn next_link(&self, session: &Session, offset: u32, limit: u32) -> Option<String> {
        let end = offset.saturating_add(limit);
        if end as usize >= session.parts().len() {
            return None;
        }
        let cursor = encode_cursor(session, end);
        let path = format!(
            "/api/{}/services/file_staging/upload/{}/parts?cursor={}&limit={limit}",
            self.version,
            session.id,
            utf8_percent_encode(&cursor, NON_ALPHANUMERIC)
        );
        Some(match session.links {
            LinkStyle::Absolute => {
                let host = self.request.header("host").unwrap_or("127.0.0.1");
                let scheme = if self.vault.config.tls.is_some() { "https" } else { "http" };
                format!("{scheme}://{host}{path}")
            }
            LinkStyle::Relative => path,
        })
    }
}

/// A session expires this long after it is created (not enforced by the simulator).
const SESSION_LIFE: Duration = Duration::from_secs(72 * 3600);

fn invalid(field: &str, expected: &str) -> Refusal {
    Refusal::new("INVALID_DATA", format!("Invalid value for [{field}]: expected {expected}."))
}

/// An application/x-www-form-urlencoded body as name -> value (the first of repeated names).
fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let decode = |s: &str| percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
    let text = String::from_utf8_lossy(body);
    let mut form = HashMap::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        form.entry(decode(name)).or_insert_with(|| decode(value));
    }
    form
}

/// A Content-MD5 header: 32 hex digits or base64 of the 16 bytes.
fn decode_md5(value: &str) -> Option<[u8; 16]> {
    use base64::Engine;
    let bytes = if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32).step_by(2).map(|i| u8::from_str_radix(&value[i..i + 2], 16)).collect::<Result<Vec<u8>, _>>().ok()?
    } else {
        base64::engine::general_purpose::STANDARD.decode(value).ok()?
    };
    bytes.try_into().ok()
}

/// "2026-05-19T10:33:23.000Z", as Vault writes dates.
fn date(at: SystemTime) -> String {
    let since = at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let (days, secs) = ((since.as_secs() / 86_400) as i64, since.as_secs() % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        since.subsec_millis()
    )
}

/// "vYY.N": a 'v', digits, a dot, digits.
fn valid_version(version: &str) -> bool {
    version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit()))
}

fn cursor_key(session: &Session) -> u64 {
    md5_for(&session.id, 0)[..16].chars().fold(0u64, |h, c| h.rotate_left(5) ^ c as u64)
}

/// An opaque, URL-unsafe cursor (it holds '+', '/' and '='), bound to the upload session.
fn encode_cursor(session: &Session, offset: u32) -> String {
    let key = cursor_key(session);
    format!("{:x}+{:x}/=", u64::from(offset) ^ key, key.rotate_left(offset % 64))
}

fn decode_cursor(session: &Session, cursor: &str) -> Option<u32> {
    let key = cursor_key(session);
    let body = cursor.strip_suffix("/=")?;
    let (a, b) = body.split_once('+')?;
    let offset = u32::try_from(u64::from_str_radix(a, 16).ok()? ^ key).ok()?;
    let valid =
        u64::from_str_radix(b, 16).ok()? == key.rotate_left(offset % 64) && offset as usize <= session.parts().len();
    valid.then_some(offset)
}

/// `{"responseStatus":"SUCCESS","data":...}`.
fn success(data: impl Serialize) -> Response {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Success<T> {
        response_status: &'static str,
        data: T,
    }
    Response::json(serde_json::to_string(&Success { response_status: "SUCCESS", data }).expect("an answer serializes"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobEnvelope {
    response_status: &'static str,
    response_message: &'static str,
    data: Value,
}

/// An upload session as create, details and the session list show it, fields in the docs'
/// order.
#[derive(Serialize)]
struct SessionData<'a> {
    path: &'a str,
    name: &'a str,
    id: &'a str,
    expiration_date: String,
    created_date: String,
    last_uploaded_date: String,
    owner: u64,
    uploaded_parts: usize,
    size: u64,
    uploaded: u64,
    overwrite: bool,
}

/// A list-parts page, fields in the order Vault sends them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    response_status: &'a str,
    response_details: Details,
    data: Vec<Part>,
}

#[derive(Serialize)]
struct Details {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<Value>,
}

/// A part as a listing and a part upload's answer show it.
#[derive(Serialize)]
struct Part {
    size: u64,
    part_number: u32,
    /// None is served as null: Vault sent no MD5.
    part_content_md5: Option<String>,
}

impl From<&SimPart> for Part {
    fn from(p: &SimPart) -> Part {
        Part { size: p.size, part_number: p.number, part_content_md5: p.md5.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Upload;

    fn state(uploads: &[Upload]) -> State {
        State::new(&Config { uploads: uploads.to_vec(), ..Config::default() })
    }

    #[test]
    fn cursor_round_trips_and_rejects_tampering() {
        let sessions = state(&[Upload::new("abc", "o", 50), Upload::new("other", "o", 50)]);
        let bigger = state(&[Upload::new("abc", "o", 500)]);
        let (u, other, big) =
            (sessions.get("abc").unwrap(), sessions.get("other").unwrap(), bigger.get("abc").unwrap());
        for off in [0, 1, 7, 49, 50] {
            assert_eq!(decode_cursor(u, &encode_cursor(u, off)), Some(off));
        }
        assert_eq!(decode_cursor(u, "1+2/="), None);
        assert_eq!(decode_cursor(other, &encode_cursor(u, 5)), None);
        assert_eq!(decode_cursor(u, &encode_cursor(big, 100)), None);
    }

    fn route(method: &str, target: &str) -> Route {
        Route::of(&Request { method: method.into(), target: target.into(), http11: true, headers: Vec::new() })
    }

    #[test]
    fn routes() {
        let call = |endpoint, id: &str| Route::Call { endpoint, version: "v25.3".into(), id: id.into() };
        let base = "/api/v25.3/services/file_staging/upload";
        assert_eq!(route("GET", &format!("{base}/abc/parts?limit=2")), call(Endpoint::Parts, "abc"));
        assert_eq!(route("POST", base), call(Endpoint::Create, ""));
        assert_eq!(route("GET", base), call(Endpoint::Sessions, ""));
        assert_eq!(route("GET", &format!("{base}/abc")), call(Endpoint::Details, "abc"));
        assert_eq!(route("PUT", &format!("{base}/abc")), call(Endpoint::Put, "abc"));
        assert_eq!(route("POST", &format!("{base}/abc")), call(Endpoint::Commit, "abc"));
        assert_eq!(route("DELETE", &format!("{base}/abc")), call(Endpoint::Abort, "abc"));
        assert_eq!(route("GET", "/api/v25.3/services/jobs/17"), call(Endpoint::Job, "17"));
        let unsupported = |m: &str| Route::Unsupported { method: m.into() };
        assert_eq!(route("PUT", &format!("{base}/abc/parts")), unsupported("PUT"));
        assert_eq!(route("PATCH", &format!("{base}/abc")), unsupported("PATCH"));
        assert_eq!(route("DELETE", base), unsupported("DELETE"));
        assert_eq!(route("POST", "/api/v25.3/services/jobs/17"), unsupported("POST"));
        for target in [
            "/api/25.3/services/file_staging/upload/abc/parts",
            "/api/v25.3/services/file_staging/upload/a/b/parts",
            "/api/v25.3/services/file_staging/upload//parts",
            "/api/v25.3/services/jobs",
            "/x",
        ] {
            assert_eq!(route("GET", target), Route::NotFound, "{target}");
        }
    }

    #[test]
    fn forms_md5s_and_dates() {
        let form = parse_form(b"path=%2Fu%2Falice%2Fa+b.bin&size=10&overwrite=true&size=11&flag");
        assert_eq!(form["path"], "/u/alice/a b.bin");
        assert_eq!((form["size"].as_str(), form["overwrite"].as_str(), form["flag"].as_str()), ("10", "true", ""));
        let md5: [u8; 16] =
            [0x5d, 0x41, 0x40, 0x2a, 0xbc, 0x4b, 0x2a, 0x76, 0xb9, 0x71, 0x9d, 0x91, 0x10, 0x17, 0xc5, 0x92];
        assert_eq!(decode_md5("5d41402abc4b2a76b9719d911017c592"), Some(md5));
        assert_eq!(decode_md5("5D41402ABC4B2A76B9719D911017C592"), Some(md5));
        assert_eq!(decode_md5("XUFAKrxLKna5cZ2REBfFkg=="), Some(md5));
        assert_eq!(decode_md5("XUFAKrxLKna5cZ2REBfF"), None, "15 bytes");
        assert_eq!(decode_md5("not an md5"), None);
        assert_eq!(date(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(date(leap), "2000-02-29T12:34:56.789Z");
        assert_eq!(date(SystemTime::UNIX_EPOCH + Duration::from_secs(4_102_444_799)), "2099-12-31T23:59:59.000Z");
    }
}
