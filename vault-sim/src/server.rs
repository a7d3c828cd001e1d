//! The running simulator: accepts connections, answers the list-parts endpoint like Vault,
//! applies faults, and records every request.

use crate::http::{percent_decode, Reader, Request, Response, Style};
use crate::model::{md5_for, Action, Config, LinkStyle, Upload};
use std::collections::HashMap;
use std::fmt::Write as _;
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

impl Sim {
    /// Binds `config.bind` and starts serving on a background thread.
    pub fn start(config: Config) -> io::Result<Sim> {
        let listener = TcpListener::bind(&config.bind)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            burst_remaining: AtomicI64::new(config.burst_limit),
            config,
            stop: AtomicBool::new(false),
            connections: AtomicU64::new(0),
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

    /// How many distinct TCP connections have been accepted.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
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

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let tls = shared.config.tls.as_ref().map(crate::tls::server_config);
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let conn_shared = shared.clone();
        let tls = tls.clone();
        let _ = thread::Builder::new().name(format!("vault-sim-conn-{id}")).spawn(move || {
            let _ = stream.set_nodelay(true);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
            match tls.map(rustls::ServerConnection::new) {
                None => serve_connection(stream, id, conn_shared),
                Some(Ok(conn)) => serve_connection(rustls::StreamOwned::new(conn, stream), id, conn_shared),
                Some(Err(_)) => {}
            }
        });
    }
}

fn serve_connection(mut stream: impl Read + Write, id: u64, shared: Arc<Shared>) {
    let mut reader = Reader::new();
    while let Ok(Some(request)) = reader.next(&mut stream, &shared.stop) {
        let keep_alive = request.keep_alive();
        let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
        shared.requests.lock().unwrap().push(Recorded {
            connection: id,
            method: request.method.clone(),
            path: path.into(),
            query: query.into(),
            headers: request.headers.clone(),
        });
        let response = match answer(&request, path, query, &shared) {
            Answer::Respond(r) => r,
            Answer::Close => return,
            Answer::Endless => return endless(&mut stream, &shared.stop),
            Answer::Hang => {
                let until = Instant::now() + Duration::from_secs(120);
                while !shared.stop.load(Ordering::SeqCst) && Instant::now() < until {
                    thread::sleep(Duration::from_millis(20));
                }
                return;
            }
        };
        let remaining = shared.burst_remaining.fetch_sub(1, Ordering::SeqCst) - 1;
        let response = response
            .header("X-VaultAPI-BurstLimit", shared.config.burst_limit)
            .header("X-VaultAPI-BurstLimitRemaining", remaining.max(0));
        if !matches!(response.write_to(&mut stream, keep_alive), Ok(true)) {
            return;
        }
    }
}

enum Answer {
    Respond(Response),
    Close,
    Hang,
    Endless,
}

/// A 200 whose JSON array never ends, until the client gives up (bounded at 4 GiB or 5 minutes).
fn endless(stream: &mut impl Write, stop: &AtomicBool) {
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

fn vault_error(status: &str, kind: &str, message: &str) -> Response {
    Response::json(format!(
        r#"{{"responseStatus":"{status}","errors":[{{"type":"{kind}","message":"{}"}}]}}"#,
        message.replace('\\', "\\\\").replace('"', "\\\"")
    ))
}

fn failure(kind: &str, message: &str) -> Answer {
    Answer::Respond(vault_error("FAILURE", kind, message))
}

/// The list-parts endpoint, as Vault answers it.
fn answer(request: &Request, path: &str, query: &str, shared: &Shared) -> Answer {
    let Some((version, upload_id)) = parse_path(path) else {
        return Answer::Respond(Response::new(404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>"));
    };
    if request.method != "GET" {
        return failure(
            "METHOD_NOT_SUPPORTED",
            &format!("Method [{}] is not supported for this resource.", request.method),
        );
    }
    let nth = {
        let mut counts = shared.per_upload.lock().unwrap();
        let n = counts.entry(upload_id.to_owned()).or_insert(0);
        *n += 1;
        *n
    };
    let upload = shared.config.uploads.iter().find(|u| u.id == upload_id);
    let mut next_page_override = None;
    let mut style = Style::Plain;
    let mut status = "SUCCESS";
    if let Some(fault) = upload.and_then(|u| u.faults.iter().find(|f| f.when.matches(nth))) {
        match &fault.action {
            Action::Status { code, body, retry_after } => {
                let mut r = Response::new(*code, "text/html", body.clone());
                if let Some(s) = retry_after {
                    r = r.header("Retry-After", s);
                }
                return Answer::Respond(r);
            }
            Action::VaultError { status, kind, message } => return Answer::Respond(vault_error(status, kind, message)),
            Action::Delay(d) => thread::sleep(*d),
            Action::Hang => return Answer::Hang,
            Action::Body(body) => return Answer::Respond(Response::json(body.clone())),
            Action::NextPage(link) => next_page_override = Some(link.clone()),
            Action::Redirect(location) => {
                return Answer::Respond(Response::new(302, "text/html", "").header("Location", location))
            }
            Action::Close => return Answer::Close,
            Action::Endless => return Answer::Endless,
            Action::Truncated => style = Style::Truncated,
            Action::DropMidBody => style = Style::DropMid,
            Action::Gzip => style = Style::Gzip,
            Action::Chunked => style = Style::Chunked,
            Action::LowercaseHeaders => style = Style::Lowercase,
            Action::Warning => status = "WARNING",
        }
    }

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
        Some(c) => match decode_cursor(upload, &percent_decode(c)) {
            Some(o) => o,
            None => return failure("INVALID_DATA", "Invalid value for [cursor]."),
        },
    };
    let host = request.header("host").unwrap_or("127.0.0.1");
    let scheme = if shared.config.tls.is_some() { "https" } else { "http" };
    let mut response = Response::json(page_body(
        upload,
        status,
        &format!("{scheme}://{host}"),
        version,
        offset,
        limit,
        next_page_override,
    ));
    response.style = style;
    Answer::Respond(response)
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

fn url_encode_cursor(cursor: &str) -> String {
    cursor.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
}

fn page_body(
    upload: &Upload,
    status: &str,
    origin: &str,
    version: &str,
    offset: u32,
    limit: u32,
    next_override: Option<String>,
) -> String {
    let end = offset.saturating_add(limit).min(upload.parts);
    let mut body = String::with_capacity(64 + (end - offset) as usize * 96);
    let _ = write!(body, r#"{{"responseStatus":"{status}","#);
    if status == "WARNING" {
        body.push_str(r#""warnings":[{"type":"SIMULATED_WARNING","message":"Simulated warning."}],"#);
    }
    body.push_str(r#""responseDetails":{"#);
    let next = if end < upload.parts {
        let path = format!(
            "/api/{version}/services/file_staging/upload/{}/parts?cursor={}&limit={limit}",
            upload.id,
            url_encode_cursor(&encode_cursor(upload, end))
        );
        Some(match upload.links {
            LinkStyle::Absolute => format!("\"{origin}{path}\""),
            LinkStyle::Relative => format!("\"{path}\""),
        })
    } else {
        None
    };
    if let Some(link) = next_override.or(next) {
        let _ = write!(body, r#""next_page":{link}"#);
    }
    body.push_str(r#"},"data":["#);
    for (i, part) in crate::file_upload::listed(upload, offset, end).iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        let md5 = part.md5.as_ref().map_or("null".to_owned(), |m| format!("\"{m}\""));
        let _ = write!(body, r#"{{"size":{},"part_number":{},"part_content_md5":{md5}}}"#, part.size, part.number);
    }
    body.push_str("]}");
    body
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
