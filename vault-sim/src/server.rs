//! The running simulator: accepts connections, answers the list-parts endpoint like Vault,
//! applies faults, and records every request.

use crate::http::{write_endless, Reader, Request, Response};
use crate::model::{md5_for, Action, Config, LinkStyle, Upload};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// One request as the simulator received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Which TCP connection carried it (numbered from 1 in accept order).
    pub connection: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::find_header(&self.headers, name)
    }
}

struct Shared {
    config: Config,
    stop: AtomicBool,
    burst_remaining: AtomicI64,
    connections: AtomicU64,
    full_handshakes: AtomicU64,
    resumed_handshakes: AtomicU64,
    requests: Mutex<Vec<Recorded>>,
    /// Requests per upload session ID, for faults that fire on the Nth.
    per_upload: Mutex<HashMap<String, u32>>,
}

/// A running simulator; stops when dropped.
pub struct Sim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// Room for many clients connecting at once (std listens with a backlog of 128).
const BACKLOG: i32 = 1024;

impl Sim {
    /// Binds `config.bind` and starts serving on a background thread.
    pub fn start(config: Config) -> io::Result<Sim> {
        let listener = TcpListener::bind(&config.bind)?;
        widen_backlog(&listener)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            burst_remaining: AtomicI64::new(config.burst_limit),
            config,
            stop: AtomicBool::new(false),
            connections: AtomicU64::new(0),
            full_handshakes: AtomicU64::new(0),
            resumed_handshakes: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
            per_upload: Mutex::new(HashMap::new()),
        });
        let accept_shared = shared.clone();
        let accept = thread::Builder::new()
            .name("vault-sim-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(Sim { addr, shared, accept: Some(accept) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// "http://127.0.0.1:PORT" ("https://..." with TLS), the vault_url to give the library.
    pub fn url(&self) -> String {
        let scheme = if self.shared.config.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many TCP connections have been accepted, exactly: counted at accept, before any
    /// byte is read, so every connection that carried a request is in the count by the time
    /// its client has an answer (and one that never sent anything is counted too).
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Completed TLS handshakes as (full, resumed): resumed ones reused an earlier session
    /// (TLS 1.3 PSK, or TLS 1.2 session ID or ticket). Counted when the handshake completes,
    /// before the connection's first request is read. (0, 0) over plain HTTP.
    pub fn tls_handshakes(&self) -> (u64, u64) {
        (self.shared.full_handshakes.load(Ordering::SeqCst), self.shared.resumed_handshakes.load(Ordering::SeqCst))
    }

    /// Stops accepting and ends every connection thread soon after.
    pub fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            self.shared.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = accept.join();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(unix)]
fn widen_backlog(listener: &TcpListener) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // Linux and the BSDs take a second listen() on a listening socket as a new backlog.
    // SAFETY: listen() on a socket descriptor the listener owns and keeps open.
    if unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn widen_backlog(_: &TcpListener) -> io::Result<()> {
    Ok(())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let tls = shared.config.tls.as_ref().map(crate::tls::server_config);
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let shared = shared.clone();
        let tls = tls.clone();
        let _ = thread::Builder::new().name(format!("vault-sim-conn-{id}")).spawn(move || {
            let _ = stream.set_nodelay(true);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
            match tls {
                None => serve_connection(stream, id, &shared),
                Some(config) => serve_tls(config, stream, id, &shared),
            }
        });
    }
}

fn serve_tls(config: Arc<rustls::ServerConfig>, mut tcp: TcpStream, id: u64, shared: &Shared) {
    let Ok(mut conn) = rustls::ServerConnection::new(config) else { return };
    if crate::tls::handshake(&mut conn, &mut tcp, &shared.stop).is_err() {
        return;
    }
    let counter = match conn.handshake_kind() {
        Some(rustls::HandshakeKind::Resumed) => &shared.resumed_handshakes,
        _ => &shared.full_handshakes,
    };
    counter.fetch_add(1, Ordering::SeqCst);
    serve_connection(rustls::StreamOwned::new(conn, tcp), id, shared);
}

fn serve_connection(mut stream: impl Read + Write, id: u64, shared: &Shared) {
    let mut reader = Reader::new();
    while let Ok(Some(request)) = reader.next(&mut stream, &shared.stop) {
        shared.record(id, &request);
        if !respond(&mut stream, &request, shared) {
            return;
        }
    }
}

impl Shared {
    fn record(&self, connection: u64, request: &Request) {
        let (path, query) = request.path_and_query();
        self.requests.lock().unwrap().push(Recorded {
            connection,
            method: request.method.clone(),
            path: path.into(),
            query: query.into(),
            headers: request.headers.clone(),
        });
    }

    /// Counts a request to `upload_id` and returns its number (from 1).
    fn count(&self, upload_id: &str) -> u32 {
        let mut counts = self.per_upload.lock().unwrap();
        let n = counts.entry(upload_id.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    /// Writes `response` with the burst-limit headers; false when the connection must end.
    fn send(&self, stream: &mut impl Write, response: Response, keep_alive: bool, fault: Option<&Action>) -> bool {
        let remaining = self.burst_remaining.fetch_sub(1, Ordering::SeqCst) - 1;
        let response = response
            .header("X-VaultAPI-BurstLimit", self.config.burst_limit)
            .header("X-VaultAPI-BurstLimitRemaining", remaining.max(0));
        matches!(response.write_to(stream, keep_alive, fault), Ok(true))
    }
}

/// Answers one request, with the fault that applies to it; false when the connection must end.
fn respond(stream: &mut impl Write, request: &Request, shared: &Shared) -> bool {
    let keep_alive = request.keep_alive();
    let (path, query) = request.path_and_query();
    let Some((version, upload_id)) = parse_path(path) else {
        let not_found = Response::new(404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>");
        return shared.send(stream, not_found, keep_alive, None);
    };
    if request.method != "GET" {
        let message = format!("Method [{}] is not supported for this resource.", request.method);
        return shared.send(stream, failure("METHOD_NOT_SUPPORTED", &message), keep_alive, None);
    }
    let nth = shared.count(upload_id);
    let upload = shared.config.uploads.iter().find(|u| u.id == upload_id);
    let mut fault = upload.and_then(|u| u.faults.iter().find(|f| f.when.matches(nth))).map(|f| &f.action);
    while let Some(Action::After(pause, then)) = fault {
        thread::sleep(*pause);
        fault = Some(then);
    }
    match fault {
        Some(Action::Close) => return false,
        Some(Action::Hang) => return hang(&shared.stop),
        Some(Action::Endless) => {
            write_endless(stream, &shared.stop);
            return false;
        }
        Some(Action::Delay(d)) => thread::sleep(*d),
        _ => {}
    }
    let response = match fault.and_then(canned) {
        Some(response) => response,
        None => list_parts(request, query, version, upload, fault, shared),
    };
    shared.send(stream, response, keep_alive, fault)
}

/// The answer a fault gives in place of the endpoint's, if it is one of those.
fn canned(fault: &Action) -> Option<Response> {
    Some(match fault {
        Action::Status { code, body, retry_after } => {
            let r = Response::new(*code, "text/html", body.clone());
            match retry_after {
                Some(s) => r.header("Retry-After", s),
                None => r,
            }
        }
        Action::VaultError { status, kind, message } => vault_error(status, kind, message),
        Action::Body(body) => Response::json(body.clone()),
        Action::Redirect(location) => Response::new(302, "text/html", "").header("Location", location),
        _ => return None,
    })
}

/// Never answers: holds the connection until the server stops (at most 120 s); then it ends.
fn hang(stop: &AtomicBool) -> bool {
    let until = Instant::now() + Duration::from_secs(120);
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        thread::sleep(Duration::from_millis(20));
    }
    false
}

fn vault_error(status: &str, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({"responseStatus": status, "errors": [{"type": kind, "message": message}]});
    Response::json(body.to_string())
}

fn failure(kind: &str, message: &str) -> Response {
    vault_error("FAILURE", kind, message)
}

/// The list-parts endpoint, as Vault answers it; `fault` may change next_page or the status.
fn list_parts(
    request: &Request,
    query: &str,
    version: &str,
    upload: Option<&Upload>,
    fault: Option<&Action>,
    shared: &Shared,
) -> Response {
    let token = request.header("authorization").unwrap_or("");
    let token = token.strip_prefix("Bearer ").unwrap_or(token);
    let Some(user) = shared.config.users.iter().find(|u| u.token == token) else {
        return failure("INVALID_SESSION_ID", "Invalid or expired session ID.");
    };
    let Some(upload) = upload else {
        return failure("INVALID_DATA", "Invalid upload session ID.");
    };
    if !user.admin && user.name != upload.owner {
        return failure("INSUFFICIENT_ACCESS", "User does not have sufficient privileges to perform the action.");
    }
    let params: HashMap<&str, &str> = query.split('&').filter_map(|kv| kv.split_once('=')).collect();
    let limit = match params.get("limit") {
        None => 1000,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=1000).contains(&n) => n,
            _ => return failure("INVALID_DATA", "Invalid value for [limit]: must be a number between 1 and 1000."),
        },
    };
    let offset = match params.get("cursor") {
        None => 0,
        Some(c) => match decode_cursor(upload, &percent_decode_str(c).decode_utf8_lossy()) {
            Some(o) => o,
            None => return failure("INVALID_DATA", "Invalid value for [cursor]."),
        },
    };
    let next_page = match fault {
        Some(Action::NextPage(json)) => match serde_json::from_str(json) {
            Ok(value) => Some(value),
            Err(e) => return Response::new(500, "text/plain", format!("vault-sim: NextPage fault is not JSON: {e}")),
        },
        _ => next_link(request, shared, upload, version, offset, limit).map(Value::String),
    };
    let status = if matches!(fault, Some(Action::Warning)) { "WARNING" } else { "SUCCESS" };
    Response::json(page_body(upload, status, next_page, offset, limit))
}

/// "/api/{version}/services/file_staging/upload/{id}/parts" -> (version, id).
fn parse_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/api/")?;
    let (version, rest) = rest.split_once('/')?;
    let id = rest.strip_prefix("services/file_staging/upload/")?.strip_suffix("/parts")?;
    let valid_version = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && a.chars().chain(b.chars()).all(|c| c.is_ascii_digit()));
    (valid_version && !id.is_empty() && !id.contains('/')).then_some((version, id))
}

fn cursor_key(upload: &Upload) -> u64 {
    md5_for(&upload.id, 0)[..16].chars().fold(0u64, |h, c| h.rotate_left(5) ^ c as u64)
}

/// An opaque, URL-unsafe cursor (it holds '+', '/' and '='), bound to the upload session.
fn encode_cursor(upload: &Upload, offset: u32) -> String {
    let key = cursor_key(upload);
    format!("{:x}+{:x}/=", u64::from(offset) ^ key, key.rotate_left(offset % 64))
}

fn decode_cursor(upload: &Upload, cursor: &str) -> Option<u32> {
    let key = cursor_key(upload);
    let body = cursor.strip_suffix("/=")?;
    let (a, b) = body.split_once('+')?;
    let offset = u32::try_from(u64::from_str_radix(a, 16).ok()? ^ key).ok()?;
    (u64::from_str_radix(b, 16).ok()? == key.rotate_left(offset % 64) && offset <= upload.parts).then_some(offset)
}

/// The link to the page after the one at `offset`, None on the last page.
fn next_link(
    request: &Request,
    shared: &Shared,
    upload: &Upload,
    version: &str,
    offset: u32,
    limit: u32,
) -> Option<String> {
    let end = offset.saturating_add(limit);
    if end >= upload.parts {
        return None;
    }
    let cursor = encode_cursor(upload, end);
    let path = format!(
        "/api/{version}/services/file_staging/upload/{}/parts?cursor={}&limit={limit}",
        upload.id,
        utf8_percent_encode(&cursor, NON_ALPHANUMERIC)
    );
    Some(match upload.links {
        LinkStyle::Absolute => {
            let host = request.header("host").unwrap_or("127.0.0.1");
            let scheme = if shared.config.tls.is_some() { "https" } else { "http" };
            format!("{scheme}://{host}{path}")
        }
        LinkStyle::Relative => path,
    })
}

/// A list-parts page, fields in the order Vault sends them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Page<'a> {
    response_status: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<Value>,
    response_details: Details,
    data: Vec<Part>,
}

#[derive(Serialize)]
struct Details {
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page: Option<Value>,
}

#[derive(Serialize)]
struct Part {
    size: u64,
    part_number: u32,
    /// None is served as null: Vault sent no MD5.
    part_content_md5: Option<String>,
}

fn page_body(upload: &Upload, status: &str, next_page: Option<Value>, offset: u32, limit: u32) -> String {
    let end = offset.saturating_add(limit).min(upload.parts);
    let warnings = if status == "WARNING" {
        vec![serde_json::json!({"type": "SIMULATED_WARNING", "message": "Simulated warning."})]
    } else {
        Vec::new()
    };
    let data = crate::file_upload::listed(upload, offset, end)
        .into_iter()
        .map(|p| Part { size: p.size, part_number: p.number, part_content_md5: p.md5 })
        .collect();
    let page = Page { response_status: status, warnings, response_details: Details { next_page }, data };
    serde_json::to_string(&page).expect("a page serializes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_tampering() {
        let u = Upload::new("abc", "o", 50);
        for off in [0, 1, 7, 49, 50] {
            assert_eq!(decode_cursor(&u, &encode_cursor(&u, off)), Some(off));
        }
        assert_eq!(decode_cursor(&u, "1+2/="), None);
        assert_eq!(decode_cursor(&Upload::new("other", "o", 50), &encode_cursor(&u, 5)), None);
        assert_eq!(decode_cursor(&u, &encode_cursor(&Upload::new("abc", "o", 500), 100)), None);
    }

    #[test]
    fn paths() {
        assert_eq!(parse_path("/api/v25.3/services/file_staging/upload/abc/parts"), Some(("v25.3", "abc")));
        assert_eq!(parse_path("/api/25.3/services/file_staging/upload/abc/parts"), None);
        assert_eq!(parse_path("/api/v25.3/services/file_staging/upload/a/b/parts"), None);
    }
}
