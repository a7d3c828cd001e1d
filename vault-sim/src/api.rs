//! Vault's endpoints over the sessions: which endpoint a request is for (`Route`), who may
//! call it, and what it answers.

use crate::envelope::{failure, warned};
use crate::faults::{Action, Tweak};
use crate::http::{Body, Request, Response};
use crate::model::{md5_for, Config, LinkStyle, SimPart, User};
use crate::session::{Session, Sessions};
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Mutex;

/// The simulated Vault: its configuration and its sessions.
pub(crate) struct Vault {
    pub config: Config,
    pub sessions: Mutex<Sessions>,
}

/// The endpoint a request is for.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// No endpoint has this path.
    NotFound,
    /// An endpoint's path with a method it does not serve.
    Unsupported { method: String },
    /// GET .../file_staging/upload/{id}/parts
    Parts { version: String, upload: String },
}

impl Route {
    pub fn of(request: &Request) -> Route {
        let (path, _) = request.path_and_query();
        let Some((version, upload)) = parse_parts_path(path) else { return Route::NotFound };
        if request.method != "GET" {
            return Route::Unsupported { method: request.method.clone() };
        }
        Route::Parts { version: version.into(), upload: upload.into() }
    }
}

impl Vault {
    pub fn new(config: Config) -> Vault {
        Vault { sessions: Mutex::new(Sessions::new(&config.uploads)), config }
    }

    /// Counts the request where faults are numbered and returns the action of the fault that
    /// hits it, if any.
    pub fn fault_for(&self, route: &Route) -> Option<Action> {
        match route {
            Route::Parts { upload, .. } => self.sessions.lock().unwrap().get_mut(upload)?.count_listing(),
            Route::NotFound | Route::Unsupported { .. } => None,
        }
    }

    /// The endpoint's answer to `request`, changed as `tweak` says.
    pub fn answer(&self, route: &Route, request: &Request, _body: &Body, tweak: Tweak, tls: bool) -> Response {
        match route {
            Route::NotFound => Response::new(404, "text/html", "<html><body><h1>404 Not Found</h1></body></html>"),
            Route::Unsupported { method } => {
                failure("METHOD_NOT_SUPPORTED", &format!("Method [{method}] is not supported for this resource."))
            }
            Route::Parts { version, upload } => {
                let listing = Listing { request, version, tweak, tls };
                self.authorized(request, upload, |session| listing.page(session))
            }
        }
    }

    /// `serve(session)` when the caller is a user who may act on session `id` (its owner or an
    /// admin), else the error Vault gives.
    fn authorized(&self, request: &Request, id: &str, serve: impl FnOnce(&Session) -> Response) -> Response {
        let Some(user) = self.user(request) else {
            return failure("INVALID_SESSION_ID", "Invalid or expired session ID.");
        };
        let sessions = self.sessions.lock().unwrap();
        let Some(session) = sessions.get(id) else {
            return failure("INVALID_DATA", "Invalid upload session ID.");
        };
        if !user.admin && user.name != session.owner {
            return failure("INSUFFICIENT_ACCESS", "User does not have sufficient privileges to perform the action.");
        }
        serve(session)
    }

    /// The user whose session ID the request carries (raw, or after "Bearer ").
    fn user(&self, request: &Request) -> Option<&User> {
        let token = request.header("authorization").unwrap_or("");
        let token = token.strip_prefix("Bearer ").unwrap_or(token);
        self.config.users.iter().find(|u| u.token == token)
    }
}

/// A list-parts request, answered a page at a time.
struct Listing<'a> {
    request: &'a Request,
    version: &'a str,
    tweak: Tweak<'a>,
    tls: bool,
}

impl Listing<'_> {
    fn page(&self, session: &Session) -> Response {
        let (_, query) = self.request.path_and_query();
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
            Some(c) => match decode_cursor(session, &percent_decode_str(c).decode_utf8_lossy()) {
                Some(o) => o,
                None => return failure("INVALID_DATA", "Invalid value for [cursor]."),
            },
        };
        let next_page = match self.tweak {
            Tweak::NextPage(json) => match serde_json::from_str(json) {
                Ok(value) => Some(value),
                Err(e) => {
                    return Response::new(500, "text/plain", format!("vault-sim: NextPage fault is not JSON: {e}"))
                }
            },
            _ => self.next_link(session, offset, limit).map(Value::String),
        };
        let page = Response::json(page_body(session, next_page, offset, limit));
        if self.tweak == Tweak::Warning {
            warned(page)
        } else {
            page
        }
    }

    /// The link to the page after the one at `offset`, None on the last page.
    fn next_link(&self, session: &Session, offset: u32, limit: u32) -> Option<String> {
        let end = offset.saturating_add(limit);
        if end as usize >= session.parts.len() {
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
                let scheme = if self.tls { "https" } else { "http" };
                format!("{scheme}://{host}{path}")
            }
            LinkStyle::Relative => path,
        })
    }
}

/// "/api/{version}/services/file_staging/upload/{id}/parts" -> (version, id).
fn parse_parts_path(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("/api/")?;
    let (version, rest) = rest.split_once('/')?;
    let id = rest.strip_prefix("services/file_staging/upload/")?.strip_suffix("/parts")?;
    (valid_version(version) && !id.is_empty() && !id.contains('/')).then_some((version, id))
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
        u64::from_str_radix(b, 16).ok()? == key.rotate_left(offset % 64) && offset as usize <= session.parts.len();
    valid.then_some(offset)
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

fn page_body(session: &Session, next_page: Option<Value>, offset: u32, limit: u32) -> String {
    let end = (offset.saturating_add(limit) as usize).min(session.parts.len());
    let data = session.parts[(offset as usize).min(end)..end].iter().map(Part::from).collect();
    let page = Page { response_status: "SUCCESS", response_details: Details { next_page }, data };
    serde_json::to_string(&page).expect("a page serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Upload;

    #[test]
    fn cursor_round_trips_and_rejects_tampering() {
        let sessions = Sessions::new(&[Upload::new("abc", "o", 50), Upload::new("other", "o", 50)]);
        let bigger = Sessions::new(&[Upload::new("abc", "o", 500)]);
        let (u, other, big) =
            (sessions.get("abc").unwrap(), sessions.get("other").unwrap(), bigger.get("abc").unwrap());
        for off in [0, 1, 7, 49, 50] {
            assert_eq!(decode_cursor(u, &encode_cursor(u, off)), Some(off));
        }
        assert_eq!(decode_cursor(u, "1+2/="), None);
        assert_eq!(decode_cursor(other, &encode_cursor(u, 5)), None);
        assert_eq!(decode_cursor(u, &encode_cursor(big, 100)), None);
    }

    #[test]
    fn paths() {
        assert_eq!(parse_parts_path("/api/v25.3/services/file_staging/upload/abc/parts"), Some(("v25.3", "abc")));
        assert_eq!(parse_parts_path("/api/25.3/services/file_staging/upload/abc/parts"), None);
        assert_eq!(parse_parts_path("/api/v25.3/services/file_staging/upload/a/b/parts"), None);
    }
}
