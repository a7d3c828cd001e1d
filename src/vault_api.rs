//! The calls of Vault's resumable upload family (create, details, upload a part, commit, job
//! status, abort, list sessions) as plain Rust over one handle's connection: each builds its
//! request, runs it in the retry loop and reads the answer through the envelope into strict
//! typed values. Every error passes the handle's redactor when the handle keeps it
//! (`Listing::fail`); the upload session IDs Vault returns are checked as a caller's are.

use crate::cancel::Stops;
use crate::envelope::{self, List, Object, Scalar};
use crate::error::{quote, Error, ErrorKind, Redactor};
use crate::local::geometry::{MAX_FILE_SIZE, MAX_PARTS};
use crate::log::Log;
use crate::origin::{check_upload_session_id, Origin};
use crate::page::RawPart;
use crate::retry::{self, Cause, Failure, Retry, Traffic};
use crate::transport::{Body, Method, Reply, Request, Transport};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::fmt;

/// The longest staging path accepted, in bytes: a longer one is refused with VAULT_PARTS_E_ARG
/// before any request (Vault documents no limit; file systems stop at 4,096).
pub const VAULT_PARTS_MAX_STAGING_PATH: usize = 4096;
/// Caps on answers: one session or job is a few hundred bytes, 50 sessions a few dozen KiB.
const MAX_SMALL_ANSWER: u64 = 64 * 1024;
const MAX_SESSIONS_ANSWER: u64 = 1024 * 1024;
/// Longest text field kept from an answer (dates, status names).
const MAX_FIELD: usize = 256;

/// What application/x-www-form-urlencoded leaves as it is: letters, digits and `*-._`.
const FORM: &AsciiSet = &NON_ALPHANUMERIC.remove(b'*').remove(b'-').remove(b'.').remove(b'_');

/// A handle's connection to one Vault: the transport (client, origin, session ID, stops), the
/// retry policy and the API version. Owned by the listing once it starts; the upload reaches it
/// through [`Calls`].
pub struct Conn {
    transport: Transport,
    retry: Retry,
    api_version: String,
}

impl Conn {
    pub fn new(transport: Transport, retry: Retry, api_version: &str) -> Conn {
        Conn { transport, retry, api_version: api_version.to_owned() }
    }

    pub fn origin(&self) -> &Origin {
        self.transport.origin()
    }

    pub fn stops(&self) -> &Stops {
        self.transport.stops()
    }

    /// `request` in the retry loop, its answer read by `read`.
    pub fn call<T>(
        &mut self,
        request: &Request,
        what: &dyn fmt::Display,
        log: &mut Log,
        traffic: &mut Traffic,
        read: impl FnMut(Reply) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        self.retry.call(&self.transport, request, what, log, traffic, read)
    }

    /// A request about one upload session (.../file_staging/upload/{id}), its ID checked as a
    /// caller's is: one URL path segment.
    fn session_request<'b>(&self, method: Method, upload_id: &str) -> Result<Request<'b>, Error> {
        check_upload_session_id(upload_id)?;
        let url = self.url(&format!("file_staging/upload/{upload_id}"));
        Ok(Request::new(method, url).max_answer(MAX_SMALL_ANSWER))
    }

    /// An absolute URL for a path under /api/{version}/services/.
    fn url(&self, path: &str) -> String {
        format!("{}/api/{}/services/{path}", self.origin().base(), self.api_version)
    }
}

/// A handle's connection, log and traffic counts, borrowed for some calls: what the upload uses
/// of the listing it took over, without copying any of it.
pub struct Calls<'a> {
    pub(crate) conn: &'a mut Conn,
    pub(crate) log: &'a mut Log,
    pub(crate) traffic: &'a mut Traffic,
}

/// An upload session as Vault describes it (create, details, list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadSession {
    /// The upload session ID: not secret, one URL path segment of at most 256 bytes.
    pub id: String,
    /// The staging path the file is committed to.
    pub path: Option<String>,
    /// The declared size of the file, in bytes.
    pub size: u64,
    /// Bytes uploaded so far.
    pub uploaded: u64,
    /// Parts uploaded so far.
    pub uploaded_parts: u32,
    pub created_date: Option<String>,
    pub expiration_date: Option<String>,
    /// The user ID of the session's owner.
    pub owner: Option<u64>,
}

/// What became of a commit's job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// SCHEDULED, QUEUED, QUEUEING or RUNNING: ask again later.
    Pending(String),
    /// SUCCESS: the file is on file staging.
    Succeeded,
    /// Any other status (ERRORS_ENCOUNTERED, CANCELLED, TIMEOUT, ...): the job ended without
    /// the file.
    Ended(String),
}

/// A part Vault stored as sent: its answer echoed the local size and MD5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stored {
    /// PUT requests this part took (retries and redirect hops included).
    pub requests: u64,
    /// Request-body bytes sent for it, retries included.
    pub bytes_sent: u64,
}

impl Calls<'_> {
    pub fn stops(&self) -> &Stops {
        self.conn.stops()
    }

    pub fn origin(&self) -> &Origin {
        self.conn.origin()
    }

    pub fn redactor(&self) -> &Redactor {
        self.log.redactor()
    }

    pub fn log(&mut self) -> &mut Log {
        self.log
    }

    pub fn traffic(&self) -> Traffic {
        *self.traffic
    }

    /// Creates an upload session for a file of `size` bytes to be committed at `path`
    /// (POST, form path/size/overwrite). Never sent twice once any of it may have arrived: a
    /// second create would leave a session behind.
    pub fn create(&mut self, path: &str, size: u64, overwrite: bool) -> Result<UploadSession, Error> {
        check_staging_path(path)?;
        if size > MAX_FILE_SIZE {
            return Err(Error::arg(format!("the file is {size} bytes; Vault accepts at most {MAX_FILE_SIZE}")));
        }
        let form = format!("path={}&size={size}&overwrite={overwrite}", utf8_percent_encode(path, FORM)).into_bytes();
        let request = Request::new(Method::Post, self.conn.url("file_staging/upload"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(&form)
            .max_answer(MAX_SMALL_ANSWER);
        self.call(&request, &"create the upload session", |reply| {
            parsed(&reply, |data: Option<Object<RawSession>>| {
                let session = one_session(data, "create")?;
                if session.size != size {
                    return Err(format!("create answered size {} for a file of {size} bytes", session.size));
                }
                Ok(session)
            })
        })
    }

    /// The session's declared size and what is uploaded so far (GET .../upload/{id}).
    pub fn details(&mut self, upload_id: &str) -> Result<UploadSession, Error> {
        let request = self.conn.session_request(Method::Get, upload_id)?;
        self.call(&request, &"upload session details", |reply| {
            parsed(&reply, |data: Option<Object<RawSession>>| {
                let session = one_session(data, "details")?;
                if session.id != upload_id {
                    return Err(format!("details answered for session id {}", quote(&session.id)));
                }
                Ok(session)
            })
        })
    }

    /// Uploads part `part_number` (PUT, its body produced from `body` for every attempt). The
    /// answer must echo the part's size and `md5` (the local bytes' digest, lowercase hex): an
    /// answer that does not is sent again, and after the last attempt it is E_INTEGRITY.
    pub fn put_part(
        &mut self,
        upload_id: &str,
        part_number: u32,
        body: &dyn Body,
        md5: &[u8; 32],
    ) -> Result<Stored, Error> {
        if !(1..=MAX_PARTS).contains(&u64::from(part_number)) {
            return Err(Error::arg(format!("part number {part_number}: Vault numbers parts 1 to {MAX_PARTS}")));
        }
        let request = self
            .conn
            .session_request(Method::Put, upload_id)?
            .header("Content-Type", "application/octet-stream")
            .header("X-VaultAPI-FilePartNumber", part_number.to_string())
            .body(body)
            .max_answer(MAX_SMALL_ANSWER);
        let before = *self.traffic;
        let expected = Echo { part_number, size: body.len(), md5: *md5 };
        self.call(&request, &format_args!("part {part_number}"), |reply| expected.check(&reply))?;
        Ok(Stored {
            requests: self.traffic.requests - before.requests,
            bytes_sent: self.traffic.body_bytes_sent - before.body_bytes_sent,
        })
    }

    /// Commits the session (POST .../upload/{id}, no body): the job that assembles the file.
    pub fn commit(&mut self, upload_id: &str) -> Result<u64, Error> {
        let request = self.conn.session_request(Method::Post, upload_id)?;
        self.call(&request, &"commit", |reply| {
            parsed(&reply, |data: Option<Object<RawJob>>| {
                let job = object(data, "data")?;
                job.job_id.unsigned("data.job_id", u64::MAX)?.ok_or_else(|| "data.job_id is missing".to_owned())
            })
        })
    }

    /// Where a commit's job is (GET /api/{v}/services/jobs/{id}). Vault allows one such request
    /// per job every 10 seconds: pacing the polls is the caller's.
    pub fn job_status(&mut self, job_id: u64) -> Result<JobStatus, Error> {
        let request = Request::new(Method::Get, self.conn.url(&format!("jobs/{job_id}"))).max_answer(MAX_SMALL_ANSWER);
        self.call(&request, &format_args!("job {job_id}"), |reply| {
            parsed(&reply, |data: Option<Object<RawJob>>| {
                let job = object(data, "data")?;
                let status = job.status.text("data.status", MAX_FIELD)?.ok_or("data.status is missing")?;
                Ok(match status.as_str() {
                    "SCHEDULED" | "QUEUED" | "QUEUEING" | "RUNNING" => JobStatus::Pending(status),
                    "SUCCESS" => JobStatus::Succeeded,
                    _ => JobStatus::Ended(status),
                })
            })
        })
    }

    /// Aborts the session: Vault purges its parts (DELETE .../upload/{id}).
    pub fn abort(&mut self, upload_id: &str) -> Result<(), Error> {
        let request = self.conn.session_request(Method::Delete, upload_id)?;
        self.call(&request, &"abort", |reply| parsed(&reply, |_: IgnoredAny| Ok(())))
    }

    /// The active upload sessions the user may see (GET .../file_staging/upload).
    pub fn sessions(&mut self) -> Result<Vec<UploadSession>, Error> {
        let request = Request::new(Method::Get, self.conn.url("file_staging/upload")).max_answer(MAX_SESSIONS_ANSWER);
        self.call(&request, &"list upload sessions", |reply| {
            parsed(&reply, |data: List<RawSession>| {
                let items = data.get("data")?;
                items.iter().enumerate().map(|(i, raw)| raw.validate(&format!("data[{i}]"))).collect()
            })
        })
    }

    fn call<T>(
        &mut self,
        request: &Request,
        what: &dyn fmt::Display,
        read: impl FnMut(Reply) -> Result<T, Failure>,
    ) -> Result<T, Error> {
        self.conn.call(request, what, self.log, self.traffic, read)
    }
}

/// An answer's `data` member as `D`, turned into the value by `read` (which names any
/// violation); Vault's failures and broken envelopes as the retry loop needs them.
fn parsed<'a, D, T>(reply: &'a Reply, read: impl FnOnce(D) -> Result<T, String>) -> Result<T, Failure>
where
    D: Deserialize<'a> + Default,
{
    retry::answer(reply, envelope::parse::<D, IgnoredAny>, |data, _| read(data).map_err(Error::protocol))
}

/// A staging path as create sends it: absolute, printable, bounded.
pub fn check_staging_path(path: &str) -> Result<(), Error> {
    if !path.starts_with('/') {
        return Err(Error::arg(format!("staging_path {} must be absolute (start with '/')", quote(path))));
    }
    if path.len() > VAULT_PARTS_MAX_STAGING_PATH {
        return Err(Error::arg(format!(
            "staging_path is {} bytes long; at most {VAULT_PARTS_MAX_STAGING_PATH} are accepted",
            path.len()
        )));
    }
    if path.chars().any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')) {
        return Err(Error::arg(format!("staging_path {} contains a control character", quote(path))));
    }
    if path.ends_with('/') {
        return Err(Error::arg(format!("staging_path {} names a folder; it must end with the file name", quote(path))));
    }
    Ok(())
}

/// The object of `data`, or the violation.
fn object<T>(data: Option<Object<T>>, what: &str) -> Result<T, String> {
    data.ok_or_else(|| format!("{what} is missing"))?.get(what)
}

fn one_session(data: Option<Object<RawSession>>, call: &str) -> Result<UploadSession, String> {
    object(data, "data")?.validate("data").map_err(|why| format!("{call} answered: {why}"))
}

/// Fields are kept as whatever JSON type arrived, so a violation names the field.
#[derive(Deserialize, Default)]
struct RawSession<'a> {
    #[serde(default, borrow)]
    id: Scalar<'a>,
    #[serde(default, borrow)]
    path: Scalar<'a>,
    #[serde(default)]
    size: Scalar<'a>,
    #[serde(default)]
    uploaded: Scalar<'a>,
    #[serde(default)]
    uploaded_parts: Scalar<'a>,
    #[serde(default, borrow)]
    created_date: Scalar<'a>,
    #[serde(default, borrow)]
    expiration_date: Scalar<'a>,
    #[serde(default)]
    owner: Scalar<'a>,
}

impl RawSession<'_> {
    fn validate(&self, at: &str) -> Result<UploadSession, String> {
        let field = |name: &str| format!("{at}.{name}");
        let id = self.id.text(&field("id"), usize::MAX)?.ok_or_else(|| format!("{} is missing", field("id")))?;
        check_upload_session_id(&id).map_err(|e| format!("{} is not usable: {}", field("id"), e.message()))?;
        let size = self.size.unsigned(&field("size"), MAX_FILE_SIZE)?;
        Ok(UploadSession {
            id,
            path: self.path.text(&field("path"), VAULT_PARTS_MAX_STAGING_PATH)?,
            size: size.ok_or_else(|| format!("{} is missing", field("size")))?,
            uploaded: self.uploaded.unsigned(&field("uploaded"), MAX_FILE_SIZE)?.unwrap_or(0),
            uploaded_parts: self.uploaded_parts.unsigned(&field("uploaded_parts"), MAX_PARTS)?.unwrap_or(0) as u32,
            created_date: self.created_date.text(&field("created_date"), MAX_FIELD)?,
            expiration_date: self.expiration_date.text(&field("expiration_date"), MAX_FIELD)?,
            owner: self.owner.unsigned(&field("owner"), u64::MAX)?,
        })
    }
}

#[derive(Deserialize, Default)]
struct RawJob<'a> {
    #[serde(default)]
    job_id: Scalar<'a>,
    #[serde(default, borrow)]
    status: Scalar<'a>,
}

/// What a part upload's answer must say.
struct Echo {
    part_number: u32,
    size: u64,
    md5: [u8; 32],
}

impl Echo {
    /// Ok when the answer echoes this part. A wrong size or MD5 may be fixed by sending the
    /// part again ([`Cause::Mismatch`]); a broken answer may not.
    fn check(&self, reply: &Reply) -> Result<(), Failure> {
        let (size, md5) = parsed(reply, |data: Option<Object<RawPart>>| self.read(&object(data, "data")?))?;
        if (size, md5) == (self.size, self.md5) {
            return Ok(());
        }
        let hex = |m: &[u8; 32]| String::from_utf8_lossy(m).into_owned();
        let message = format!(
            "Vault stored part {} as {size} bytes with MD5 {}; the local part is {} bytes with MD5 {}",
            self.part_number,
            hex(&md5),
            self.size,
            hex(&self.md5)
        );
        Err(Failure::new(Error::new(ErrorKind::Integrity, message), Cause::Mismatch))
    }

    /// The size and MD5 the answer echoes (a part, as a listing names it), or the violation.
    fn read(&self, echo: &RawPart) -> Result<(u64, [u8; 32]), String> {
        let part = echo.validate().map_err(|why| format!("data.{why}"))?;
        if part.part_number != self.part_number {
            return Err(format!("data.part_number is {} for part {}", part.part_number, self.part_number));
        }
        Ok((part.size, part.md5.ok_or("data.part_content_md5 is missing")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::{Listing, UploadTarget};
    use crate::loopback::{Reply as R, Seen, Server};
    use std::time::Duration;

    const SID: &str = "sid-vault-api-test-0123456789abcdef";
    const MD5: &[u8; 32] = b"c24a2d4b1c4e03a9f4113903edac6f47";

    /// A listing for a new session on `server`, fast retries.
    fn listing(server: &Server) -> Listing {
        let mut l = Listing::for_new_session(&server.url(""), SID, "/u/alice/big.bin", false, None);
        l.configure(|s| s.set_backoff_ms(1, 10)).unwrap();
        l
    }

    fn session_json(id: &str, size: u64) -> String {
        format!(
            r#"{{"responseStatus":"SUCCESS","data":{{"path":"/u/alice/big.bin","name":"big.bin","id":"{id}",
            "expiration_date":"2026-01-04T10:00:00.000Z","created_date":"2026-01-01T10:00:00.000Z",
            "last_uploaded_date":null,"owner":44533,"uploaded_parts":2,"size":{size},"uploaded":10485760,"overwrite":false}}}}"#
        )
    }

    fn echo(n: u32, size: u64, md5: &str) -> R {
        R::json(&format!(
            r#"{{"responseStatus":"SUCCESS","data":{{"size":{size},"part_number":{n},"part_content_md5":"{md5}"}}}}"#
        ))
    }

    fn only(server: &Server) -> Seen {
        let seen = server.requests();
        assert_eq!(seen.len(), 1, "{seen:#?}");
        seen[0].clone()
    }

    #[test]
    fn create_posts_the_form_and_reads_the_session() {
        let id = "98f46c04fa7a65ff2e5eaf90fdf613ab";
        let server = Server::start(move |_, _| R::json(&session_json(id, 123_456_789)));
        let mut l = listing(&server);
        let session = l.calls().unwrap().create("/u/alice/big file+1%.bin", 123_456_789, true).unwrap();
        assert_eq!(session.id, id);
        assert_eq!((session.size, session.uploaded, session.uploaded_parts), (123_456_789, 10_485_760, 2));
        assert_eq!(session.owner, Some(44533));
        assert_eq!(session.expiration_date.as_deref(), Some("2026-01-04T10:00:00.000Z"));
        let seen = only(&server);
        assert_eq!((seen.method.as_str(), seen.target.as_str()), ("POST", "/api/v25.3/services/file_staging/upload"));
        assert_eq!(seen.header("Content-Type"), Some("application/x-www-form-urlencoded"));
        assert_eq!(seen.header("Authorization"), Some(SID));
        assert_eq!(
            String::from_utf8(seen.body).unwrap(),
            "path=%2Fu%2Falice%2Fbig%20file%2B1%25.bin&size=123456789&overwrite=true"
        );
    }

    #[test]
    fn create_checks_what_vault_returns() {
        for (body, expected) in [
            (session_json("ok-id", 5), "create answered size 5 for a file of 7 bytes"),
            (session_json("a/b", 7), "create answered: data.id is not usable: upload_session_id \"a/b\" contains '/'"),
            (
                session_json(&"x".repeat(257), 7),
                "create answered: data.id is not usable: upload_session_id is 257 bytes",
            ),
            (r#"{"responseStatus":"SUCCESS","data":{"size":7}}"#.to_owned(), "create answered: data.id is missing"),
            (
                r#"{"responseStatus":"SUCCESS","data":{"id":"i","size":"7"}}"#.to_owned(),
                "data.size is the string \"7\"",
            ),
            (
                r#"{"responseStatus":"SUCCESS","data":[{"id":"i","size":7}]}"#.to_owned(),
                "data is an array, not an object",
            ),
            (r#"{"responseStatus":"SUCCESS"}"#.to_owned(), "data is missing"),
        ] {
            let reply = body.clone();
            let server = Server::start(move |_, _| R::json(&reply));
            let mut l = listing(&server);
            let error = l.calls().unwrap().create("/f", 7, false).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Protocol, "{body}: {error}");
            assert!(error.message().contains(expected), "{body}: {error}");
            assert!(error.message().starts_with("create the upload session (POST "), "{error}");
            assert_eq!(server.requests().len(), 1, "a broken answer is not retried");
        }
    }

    #[test]
    fn a_create_that_may_have_arrived_is_not_repeated() {
        let server = Server::start(|n, _| if n == 1 { R::Close } else { R::json(&session_json("second", 7)) });
        let mut l = listing(&server);
        let error = l.calls().unwrap().create("/f", 7, false).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Network, "{error}");
        assert_eq!(server.requests().len(), 1);
        // A gateway's 503 after the form was sent is not repeated either; a 429 is.
        let server = Server::start(|n, _| match n {
            1 => R::Answer("429 Too Many Requests", vec!["Retry-After: 0".into()], Vec::new()),
            2 => R::status("503 Service Unavailable"),
            _ => R::json(&session_json("third", 7)),
        });
        let mut l = listing(&server);
        let error = l.calls().unwrap().create("/f", 7, false).unwrap_err();
        assert!(
            error.message().contains("HTTP 503") && error.message().ends_with("(after 2 attempts)")
                || error.message().contains("after 2 attempts"),
            "{error}"
        );
        assert_eq!(server.requests().len(), 2);
    }

    #[test]
    fn details_reads_the_declared_size() {
        let server = Server::start(|_, _| R::json(&session_json("up-1", 20_971_520)));
        let mut l = Listing::new(&server.url(""), SID, "up-1");
        let session = l.calls().unwrap().details("up-1").unwrap();
        assert_eq!((session.size, session.uploaded_parts), (20_971_520, 2));
        let seen = only(&server);
        assert_eq!(
            (seen.method.as_str(), seen.target.as_str()),
            ("GET", "/api/v25.3/services/file_staging/upload/up-1")
        );
        let error = l.calls().unwrap().details("up-2").unwrap_err();
        assert_eq!(
            (error.kind(), error.message().ends_with("details answered for session id \"up-1\"")),
            (ErrorKind::Protocol, true),
            "{error}"
        );
        assert_eq!(l.calls().unwrap().details("../x").unwrap_err().kind(), ErrorKind::Arg);
        assert_eq!(server.requests().len(), 2, "a bad id is refused before any request");
    }

    #[test]
    fn put_part_sends_the_headers_and_checks_the_echo() {
        let server = Server::start(|_, r| echo(7, r.body.len() as u64, "C24A2D4B1C4E03A9F4113903EDAC6F47"));
        let mut l = listing(&server);
        let body = vec![9u8; 1000];
        let stored = l.calls().unwrap().put_part("up-1", 7, &body, MD5).unwrap();
        assert_eq!(stored, Stored { requests: 1, bytes_sent: 1000 });
        let seen = only(&server);
        assert_eq!(
            (seen.method.as_str(), seen.target.as_str()),
            ("PUT", "/api/v25.3/services/file_staging/upload/up-1")
        );
        assert_eq!(seen.header("Content-Type"), Some("application/octet-stream"));
        assert_eq!(seen.header("Content-Length"), Some("1000"));
        assert_eq!(seen.header("X-VaultAPI-FilePartNumber"), Some("7"));
        assert_eq!((seen.header("Expect"), seen.header("Content-MD5")), (None, None));
        assert_eq!(seen.body, body);
        assert_eq!(l.traffic_for_tests().body_bytes_sent, 1000);
    }

    #[test]
    fn a_wrong_echo_is_sent_again_and_always_wrong_is_an_integrity_error() {
        let wrong = "d6762077325b9ec3b75ada3b269e17d3";
        let server = Server::start(move |n, r| {
            let size = r.body.len() as u64;
            if n == 1 {
                echo(2, size, wrong)
            } else {
                echo(2, size, std::str::from_utf8(MD5).unwrap())
            }
        });
        let mut l = listing(&server);
        let stored = l.calls().unwrap().put_part("up-1", 2, &vec![1u8; 10], MD5).unwrap();
        assert_eq!(stored, Stored { requests: 2, bytes_sent: 20 });
        let bodies: Vec<_> = server.requests().into_iter().map(|r| r.body).collect();
        assert_eq!(bodies, [vec![1u8; 10], vec![1u8; 10]], "the same bytes again");

        let server = Server::start(move |_, r| echo(2, r.body.len() as u64 - 1, wrong));
        let mut l = listing(&server);
        let error = l.calls().unwrap().put_part("up-1", 2, &vec![1u8; 10], MD5).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Integrity);
        let url = server.url("/api/v25.3/services/file_staging/upload/up-1");
        assert_eq!(
            error.message(),
            format!(
                "part 2 (PUT {url}) (after 3 attempts): Vault stored part 2 as 9 bytes with MD5 {wrong}; \
                 the local part is 10 bytes with MD5 c24a2d4b1c4e03a9f4113903edac6f47"
            )
        );
        assert_eq!(server.requests().len(), 3);
    }

    #[test]
    fn a_broken_echo_is_not_retried() {
        for (body, expected) in [
            (
                r#"{"responseStatus":"SUCCESS","data":{"size":10,"part_number":3,"part_content_md5":"c24a2d4b1c4e03a9f4113903edac6f47"}}"#,
                "data.part_number is 3 for part 2",
            ),
            (r#"{"responseStatus":"SUCCESS","data":{"size":10,"part_number":2}}"#, "data.part_content_md5 is missing"),
            (
                r#"{"responseStatus":"SUCCESS","data":{"size":10,"part_number":2,"part_content_md5":"xyz"}}"#,
                "data.part_content_md5 \"xyz\" is not 32 hex digits",
            ),
            (
                r#"{"responseStatus":"SUCCESS","data":{"size":-10,"part_number":2,"part_content_md5":"c24a2d4b1c4e03a9f4113903edac6f47"}}"#,
                "data.size is -10",
            ),
        ] {
            let server = Server::start(move |_, _| R::json(body));
            let mut l = listing(&server);
            let error = l.calls().unwrap().put_part("up-1", 2, &vec![1u8; 10], MD5).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
            assert!(error.message().contains(expected), "{error}");
            assert_eq!(server.requests().len(), 1);
        }
    }

    #[test]
    fn auth_failures_on_a_part_are_not_retried() {
        let server = Server::start(|_, _| {
            R::json(
                r#"{"responseStatus":"FAILURE","errors":[{"type":"INVALID_SESSION_ID","message":"Invalid or expired session ID."}]}"#,
            )
        });
        let mut l = listing(&server);
        let error = l.calls().unwrap().put_part("up-1", 1, &vec![1u8; 10], MD5).unwrap_err();
        assert_eq!((error.kind(), error.vault_type()), (ErrorKind::Auth, Some("INVALID_SESSION_ID")));
        assert_eq!(server.requests().len(), 1);
    }

    #[test]
    fn commit_job_status_abort_and_sessions() {
        let server = Server::start(|_, r| match (r.method.as_str(), r.target.as_str()) {
            ("POST", _) => R::json(r#"{"responseStatus":"SUCCESS","data":{"job_id":100954}}"#),
            ("GET", "/api/v25.3/services/jobs/100954") => R::json(
                r#"{"responseStatus":"SUCCESS","responseMessage":"OK","data":{"id":100954,"status":"RUNNING","method":"POST",
                "links":[{"rel":"self","href":"/api/v26.1/services/jobs/1601","method":"GET","accept":"application/json"}],
                "created_by":44533,"created_date":"2026-01-01T10:00:00.000Z"}}"#,
            ),
            ("GET", "/api/v25.3/services/jobs/1") => {
                R::json(r#"{"responseStatus":"SUCCESS","data":{"status":"SUCCESS"}}"#)
            }
            ("GET", "/api/v25.3/services/jobs/2") => {
                R::json(r#"{"responseStatus":"SUCCESS","data":{"status":"ERRORS_ENCOUNTERED"}}"#)
            }
            ("GET", "/api/v25.3/services/file_staging/upload") => R::json(&format!(
                r#"{{"responseStatus":"SUCCESS","data":[{},{}]}}"#,
                r#"{"id":"a","size":1,"path":"/a"}"#, r#"{"id":"b","size":2,"uploaded":1,"uploaded_parts":1}"#
            )),
            ("DELETE", _) => R::json(r#"{"responseStatus":"SUCCESS"}"#),
            _ => R::status("404 Not Found"),
        });
        let mut l = listing(&server);
        let mut calls = l.calls().unwrap();
        assert_eq!(calls.commit("up-1").unwrap(), 100_954);
        assert_eq!(calls.job_status(100_954).unwrap(), JobStatus::Pending("RUNNING".into()));
        assert_eq!(calls.job_status(1).unwrap(), JobStatus::Succeeded);
        assert_eq!(calls.job_status(2).unwrap(), JobStatus::Ended("ERRORS_ENCOUNTERED".into()));
        calls.abort("up-1").unwrap();
        let sessions = calls.sessions().unwrap();
        assert_eq!(
            sessions.iter().map(|s| (s.id.as_str(), s.size, s.uploaded_parts)).collect::<Vec<_>>(),
            [("a", 1, 0), ("b", 2, 1)]
        );
        assert_eq!(sessions[0].path.as_deref(), Some("/a"));
        let seen: Vec<_> = server
            .requests()
            .iter()
            .map(|r| (r.method.clone(), r.target.clone(), r.header("Content-Length").map(str::to_owned)))
            .collect();
        assert_eq!(seen[0], ("POST".into(), "/api/v25.3/services/file_staging/upload/up-1".into(), Some("0".into())));
        assert_eq!(seen[4], ("DELETE".into(), "/api/v25.3/services/file_staging/upload/up-1".into(), None));
    }

    #[test]
    fn malformed_job_and_session_lists_are_refused() {
        for (path, body, expected) in [
            ("jobs", r#"{"responseStatus":"SUCCESS","data":{"status":5}}"#, "data.status is 5; it must be a string"),
            ("jobs", r#"{"responseStatus":"SUCCESS","data":{}}"#, "data.status is missing"),
            ("commit", r#"{"responseStatus":"SUCCESS","data":{"job_id":"x"}}"#, "data.job_id is the string \"x\""),
            ("list", r#"{"responseStatus":"SUCCESS","data":{"id":"a"}}"#, "data is an object, not an array"),
            (
                "list",
                r#"{"responseStatus":"SUCCESS","data":[{"id":"a","size":1},7]}"#,
                "data[1] is a number, not an object",
            ),
            ("list", r#"{"responseStatus":"SUCCESS","data":[{"id":"a b","size":1}]}"#, "data[0].id is not usable"),
        ] {
            let server = Server::start(move |_, _| R::json(body));
            let mut l = listing(&server);
            let mut calls = l.calls().unwrap();
            let error = match path {
                "jobs" => calls.job_status(9).map(drop),
                "commit" => calls.commit("u").map(drop),
                _ => calls.sessions().map(drop),
            }
            .unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Protocol, "{error}");
            assert!(error.message().contains(expected), "{body}: {error}");
        }
    }

    #[test]
    fn a_listing_for_a_new_session_lists_nothing_and_checks_its_path() {
        let server = Server::start(|_, _| R::status("500 Internal Server Error"));
        let mut l = listing(&server);
        assert_eq!(
            l.upload_target(),
            Some(&UploadTarget::New { staging_path: "/u/alice/big.bin".into(), overwrite: false })
        );
        assert!(!l.next_part_fetches());
        for _ in 0..2 {
            let misuse = l.next_part().unwrap_err();
            assert_eq!(misuse.kind(), ErrorKind::Arg);
            assert!(misuse.message().contains("does not exist yet"), "{misuse}");
        }
        assert!(l.error().is_none(), "misuse changes nothing");
        l.configure(|s| s.set_limit(5)).unwrap();
        assert_eq!(l.stats().requests, 0);
        assert!(server.requests().is_empty());
        // Once the upload has started it, settings are fixed, and next is still misuse.
        l.calls().unwrap();
        assert_eq!(l.configure(|s| s.set_limit(6)).unwrap_err().kind(), ErrorKind::Arg);
        assert_eq!(l.next_part().unwrap_err().kind(), ErrorKind::Arg);
        assert!(l.error().is_none());

        for (path, expected) in [
            ("relative/x.bin", "must be absolute"),
            ("/folder/", "names a folder"),
            ("/a\nb", "contains a control character"),
            ("/a\u{0}b", "contains a control character"),
            (&format!("/{}", "a".repeat(VAULT_PARTS_MAX_STAGING_PATH)), "at most 4096 are accepted"),
        ] {
            let l = Listing::for_new_session(&server.url(""), SID, path, true, None);
            let error = l.error().expect("refused");
            assert_eq!(error.kind(), ErrorKind::Arg);
            assert!(error.message().contains(expected), "{path:?}: {error}");
            assert!(!error.message().contains('\n'), "{error:?}");
        }
        // A staging path that is the session ID pasted in the wrong place is never quoted.
        let l = Listing::for_new_session(&server.url(""), SID, SID, true, None);
        assert!(!l.error().unwrap().message().contains(SID), "{}", l.error().unwrap());
    }

    #[test]
    fn the_deadline_of_the_listing_bounds_the_upload_calls() {
        let server = Server::start(|_, _| R::Hang);
        let mut l = listing(&server);
        l.configure(|s| s.set_deadline_ms(300)).unwrap();
        let started = std::time::Instant::now();
        let error = l.calls().unwrap().commit("up-1").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert!(error.message().ends_with("the deadline was reached (vault_parts_set_deadline_ms)"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    }
}
