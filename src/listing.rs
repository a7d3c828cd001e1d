//! The iterator itself: configure, then page through the parts, following next_page links
//! within the origin, retrying what may pass, and keeping the first error for good.

use crate::cancel::{Deadline, Interrupt, Stop, Stops};
use crate::client::{Client, ClientSettings};
use crate::error::{Error, ErrorKind, Redactor};
use crate::log::{Level, Log, Sink};
use crate::net::IoStats;
use crate::origin::{check_session_id, check_upload_session_id, Origin};
use crate::page::{self, Outcome, Page, Part};
use crate::retry::{Cause, Failure, Retry, Traffic};
use crate::settings::Settings;
use crate::transport::{self, Method, Reply, Request, Transport};
use crate::vault_api::{check_staging_path, Calls, Conn, UploadSession};
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The most pages one listing fetches. Vault's largest upload session (9,616 parts, v26.2)
/// listed one part a page needs 9,616 pages (and a last empty one at most).
pub(crate) const MAX_PAGES: u32 = 10_000;
/// The most pages in a row that hold no parts yet link onward: Vault never sends one, a
/// server spinning through cursors sends them forever. The next one ends the listing.
pub(crate) const MAX_EMPTY_PAGES: u32 = 10;

/// Lists the parts of one upload session. Setters work until the first call to
/// [`Listing::next_part`]; any error is kept, and every later call returns it again.
pub struct Listing {
    settings: Settings,
    log: Log,
    state: State,
    error_yielded: bool,
    /// Raised from any thread by vault_parts_interrupt; every wait and socket call of the
    /// listing obeys it.
    interrupt: Interrupt,
    tally: Tally,
}

/// What the listing has done so far, across every state (kept after it ends).
#[derive(Debug, Default)]
struct Tally {
    traffic: Traffic,
    /// Pages fetched so far: the one count of them.
    pages: u64,
    /// Counted below HTTP by the network layer, for this listing's requests only.
    io: Arc<IoStats>,
    /// The first vault_parts_next; None before it.
    started: Option<Instant>,
    /// When the listing ended (DONE or an error after it started).
    ended: Option<Instant>,
}

/// A listing's statistics (vault_parts_stats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: u64,
    pub retries: u64,
    pub pages: u64,
    pub bytes_received: u64,
    pub connections: u64,
    /// From the first vault_parts_next to the end of the listing (or now, while it runs).
    pub elapsed: Duration,
}

/// Which upload session a listing is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UploadTarget {
    /// A session that exists: its parts can be listed.
    Existing { upload_session_id: String },
    /// A session to be created by an upload: nothing to list yet.
    New { staging_path: String, overwrite: bool },
    /// No one session: the user's active upload sessions (vault_parts_open_sessions).
    Account,
}

/// Where the requests go and what they carry.
struct Target {
    origin: Origin,
    session_id: String,
    upload: UploadTarget,
    /// The shared client it was opened with; None: a private one is made at the first page
    /// from the listing's own settings.
    client: Option<Client>,
}

impl Target {
    fn check(vault_url: &str, session_id: &str, upload: UploadTarget) -> Result<Target, Error> {
        // The session ID first: with vault_url and session_id swapped, the URL check would quote
        // the session ID, which the redactor (made from the other argument) does not know.
        check_session_id(session_id)?;
        let origin = Origin::parse_vault_url(vault_url)?;
        match &upload {
            UploadTarget::Existing { upload_session_id } => {
                // The session ID passed as the upload's would travel in a URL path (and so in
                // access logs): refused before any request, without quoting either.
                let token = crate::origin::bearer_token(session_id).unwrap_or(session_id);
                if upload_session_id.trim() == token.trim() || upload_session_id.trim() == session_id.trim() {
                    return Err(Error::arg("upload_session_id is the session ID: pass the upload session's ID"));
                }
                check_upload_session_id(upload_session_id)?
            }
            UploadTarget::New { staging_path, .. } => check_staging_path(staging_path)?,
            UploadTarget::Account => {}
        }
        Ok(Target { origin, session_id: session_id.to_owned(), upload, client: None })
    }
}

enum State {
    Configuring(Target),
    /// Started: the connection is made and the deadline counts.
    Open(Box<Open>),
    Failed(Error),
}

/// A started listing: its connection (which the upload shares) and how far the paging is.
struct Open {
    conn: Conn,
    upload: UploadTarget,
    paging: Paging,
}

enum Paging {
    Fetching(Pager),
    /// Every part listed (or, for a new session, none to list).
    Done,
    /// The session was aborted: it has no parts any more.
    Aborted,
    /// The user's upload sessions: None until fetched, then those not yet returned.
    Sessions(Option<std::vec::IntoIter<UploadSession>>),
}

/// Misuse: the call is refused and the listing is left exactly as it was.
fn misuse(what: &str) -> Error {
    Error::arg(format!("{what} is allowed only before the first vault_parts_next"))
}

impl Listing {
    /// Checks the arguments; does no I/O. A bad argument leaves the listing failed with
    /// [`ErrorKind::Arg`](crate::ErrorKind::Arg), so the caller can read why from
    /// [`Listing::error`].
    pub fn new(vault_url: &str, session_id: &str, upload_session_id: &str) -> Listing {
        let upload = UploadTarget::Existing { upload_session_id: upload_session_id.to_owned() };
        Listing::open(vault_url, session_id, upload, None)
    }

    /// [`Listing::new`] over a client shared with other listings: its connections, name cache
    /// and TLS sessions; trust, proxy and client ID are the client's.
    pub fn with_client(vault_url: &str, session_id: &str, upload_session_id: &str, client: Client) -> Listing {
        let upload = UploadTarget::Existing { upload_session_id: upload_session_id.to_owned() };
        Listing::open(vault_url, session_id, upload, Some(client))
    }

    /// A listing for an upload session that does not exist yet (vault_parts_open_new): its
    /// settings, log and client serve the upload that creates the session; listing its parts
    /// is misuse. `staging_path` must be absolute. No I/O.
    pub fn for_new_session(
        vault_url: &str,
        session_id: &str,
        staging_path: &str,
        overwrite: bool,
        client: Option<Client>,
    ) -> Listing {
        let upload = UploadTarget::New { staging_path: staging_path.to_owned(), overwrite };
        Listing::open(vault_url, session_id, upload, client)
    }

    /// A listing of the user's upload sessions rather than one session's parts
    /// (vault_parts_open_sessions): [`Listing::next_session`] lists them, listing parts is
    /// misuse. No I/O.
    pub fn for_sessions(vault_url: &str, session_id: &str, client: Option<Client>) -> Listing {
        Listing::open(vault_url, session_id, UploadTarget::Account, client)
    }

    fn open(vault_url: &str, session_id: &str, upload: UploadTarget, client: Option<Client>) -> Listing {
        let log = Log::new(Redactor::new(session_id));
        let state = match Target::check(vault_url, session_id, upload) {
            Ok(target) => State::Configuring(Target { client, ..target }),
            Err(e) => State::Failed(e.shown(log.redactor())),
        };
        Listing {
            settings: Settings::default(),
            log,
            state,
            error_yielded: false,
            interrupt: Interrupt::new(),
            tally: Tally::default(),
        }
    }

    /// A listing that failed before it could be made (a NULL or non-UTF-8 argument).
    pub fn failed(error: Error) -> Listing {
        let error = error.shown(&Redactor::default());
        Listing {
            settings: Settings::default(),
            log: Log::default(),
            state: State::Failed(error),
            error_yielded: false,
            interrupt: Interrupt::new(),
            tally: Tally::default(),
        }
    }

    /// The error that stopped this listing, if any.
    pub fn error(&self) -> Option<&Error> {
        match &self.state {
            State::Failed(e) => Some(e),
            _ => None,
        }
    }

    /// The last X-VaultAPI-BurstLimitRemaining seen, -1 before any.
    pub fn burst_remaining(&self) -> i64 {
        self.tally.traffic.burst_remaining
    }

    /// The status of the last HTTP response, 0 before any.
    pub fn http_status(&self) -> u16 {
        self.tally.traffic.http_status
    }

    /// The wait the server asked for on the failure that stopped the listing.
    pub fn retry_after(&self) -> Option<Duration> {
        self.error().and_then(Error::retry_after)
    }

    pub fn stats(&self) -> Stats {
        let t = &self.tally;
        let elapsed = t.started.map_or(Duration::ZERO, |s| t.ended.unwrap_or_else(Instant::now).duration_since(s));
        Stats {
            requests: t.traffic.requests,
            retries: t.traffic.retries,
            pages: t.pages,
            bytes_received: t.io.bytes_received(),
            connections: t.io.connections(),
            elapsed,
        }
    }

    /// A handle on this listing's interrupt, for another thread to raise.
    pub fn interrupter(&self) -> Interrupt {
        self.interrupt.clone()
    }

    /// Records `error` as this listing's final state (unless it already failed) and returns
    /// the error the listing keeps. The error passes the redactor here, once, for good.
    pub fn fail(&mut self, error: Error) -> Error {
        if let State::Failed(first) = &self.state {
            return first.clone();
        }
        let error = error.shown(self.log.redactor());
        self.log.emit(Level::Error, || error.message().to_owned());
        if self.tally.started.is_some() {
            self.tally.ended = Some(Instant::now());
        }
        self.state = State::Failed(error.clone());
        error
    }

    /// Applies a setting before the first page; a rejected value fails the listing for good.
    /// After the first page the call is refused and changes nothing (sqlite's misuse rule).
    pub fn configure(&mut self, apply: impl FnOnce(&mut Settings) -> Result<(), Error>) -> Result<(), Error> {
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            State::Configuring(_) => apply(&mut self.settings).map_err(|e| self.fail(e)),
            State::Open(_) => Err(misuse("changing a setting").shown(self.log.redactor())),
        }
    }

    /// Whether a setting of the connection (trust, client ID) is the listing's to change: a
    /// listing opened on a shared client takes these from the client, so such a call is
    /// refused there and changes nothing.
    pub fn owns_connection(&self) -> Result<(), Error> {
        match &self.state {
            State::Configuring(Target { client: Some(_), .. }) => {
                Err(Error::arg("this listing uses a vault_parts_client: set trust and client ID on the client"))
            }
            _ => Ok(()),
        }
    }

    /// Sets or clears the log sink. Allowed at any time, as it changes no request.
    pub fn set_log(&mut self, sink: Option<Sink>) -> Result<(), Error> {
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        self.log.set_sink(sink);
        Ok(())
    }

    /// Sets the log sink (as [`Listing::set_log`], even on a failed listing) and hands back the
    /// one it replaces: the verifier relays the lines of its listing thread to the caller's.
    pub(crate) fn replace_log(&mut self, sink: Option<Sink>) -> Option<Sink> {
        self.log.replace_sink(sink)
    }

    /// What every line and error of this listing passes through.
    pub(crate) fn redactor(&self) -> &Redactor {
        self.log.redactor()
    }

    /// Whether the next [`Listing::next_part`] has to fetch a page (and so may block on the
    /// network), rather than return a part already received or end the listing.
    pub fn next_part_fetches(&self) -> bool {
        match &self.state {
            State::Configuring(target) => matches!(target.upload, UploadTarget::Existing { .. }),
            State::Open(open) => match &open.paging {
                Paging::Fetching(pager) => pager.parts.len() == 0 && pager.next_link.is_some(),
                Paging::Done | Paging::Aborted | Paging::Sessions(_) => false,
            },
            State::Failed(_) => false,
        }
    }

    /// Which upload session the listing is for; None once it failed.
    pub fn upload_target(&self) -> Option<&UploadTarget> {
        match &self.state {
            State::Configuring(target) => Some(&target.upload),
            State::Open(open) => Some(&open.upload),
            State::Failed(_) => None,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    #[cfg(test)]
    pub(crate) fn traffic_for_tests(&self) -> Traffic {
        self.tally.traffic
    }

    /// The next part, Ok(None) once all are listed, or the listing's error. On a listing for a
    /// new session this is misuse: refused, nothing changes.
    pub fn next_part(&mut self) -> Result<Option<Part>, Error> {
        let refusal = match self.upload_target() {
            Some(UploadTarget::New { .. }) => {
                Some("this iterator is for an upload session that does not exist yet: it has no parts to list")
            }
            Some(UploadTarget::Account) => {
                Some("this iterator lists upload sessions (vault_parts_sessions_next), not the parts of one")
            }
            _ => None,
        };
        if let Some(why) = refusal {
            return Err(Error::arg(why).shown(self.log.redactor()));
        }
        if let State::Open(open) = &self.state {
            if let Paging::Aborted = open.paging {
                let why = "the upload session was aborted (vault_parts_abort): it has no parts to list";
                return Err(Error::arg(why).shown(self.log.redactor()));
            }
        }
        let listing = matches!(&self.state, State::Configuring(_))
            || matches!(&self.state, State::Open(open) if matches!(open.paging, Paging::Fetching(_)));
        if listing && self.interrupt.is_raised() {
            return Err(self.fail(transport::stop_error(Stop::Cancelled)));
        }
        self.started()?;
        let State::Open(open) = &mut self.state else { unreachable!("started() leaves the listing open") };
        let Open { conn, paging, .. } = &mut **open;
        let Paging::Fetching(pager) = paging else { return Ok(None) };
        match pager.next(conn, &mut self.log, &mut self.tally) {
            Ok(Some(part)) => Ok(Some(part)),
            Ok(None) => {
                *paging = Paging::Done;
                let pages = self.tally.pages;
                self.tally.ended = Some(Instant::now());
                self.log.emit(Level::Info, || {
                    format!("listing complete after {pages} page{}", if pages == 1 { "" } else { "s" })
                });
                Ok(None)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    /// Aborts the upload session this listing is for (DELETE): Vault purges its parts. Only
    /// on a listing for an existing session, before its first part: otherwise refused, nothing
    /// changed. Afterwards listing parts is misuse. A failure is the listing's error.
    pub fn abort(&mut self) -> Result<(), Error> {
        let id = match (&self.state, self.upload_target()) {
            (State::Failed(e), _) => return Err(e.clone()),
            (State::Configuring(_), Some(UploadTarget::Existing { upload_session_id })) => upload_session_id.clone(),
            (State::Configuring(_), _) => {
                let why = "vault_parts_abort needs an iterator from vault_parts_open or vault_parts_open_with_client";
                return Err(Error::arg(why).shown(self.log.redactor()));
            }
            _ => return Err(misuse("vault_parts_abort").shown(self.log.redactor())),
        };
        let aborted = self.calls()?.abort(&id);
        if let Err(e) = aborted {
            return Err(self.fail(e));
        }
        self.tally.ended = Some(Instant::now());
        self.log.emit(Level::Info, || "upload session aborted".to_owned());
        if let State::Open(open) = &mut self.state {
            open.paging = Paging::Aborted;
        }
        Ok(())
    }

    /// The next of the user's upload sessions (all fetched with the first call, one request:
    /// Vault keeps at most 50 active), Ok(None) after the last. Only on a listing from
    /// [`Listing::for_sessions`]; otherwise refused, nothing changed.
    pub fn next_session(&mut self) -> Result<Option<UploadSession>, Error> {
        if let State::Failed(e) = &self.state {
            return Err(e.clone());
        }
        if !matches!(self.upload_target(), Some(UploadTarget::Account)) {
            let why = "vault_parts_sessions_next needs an iterator from vault_parts_open_sessions";
            return Err(Error::arg(why).shown(self.log.redactor()));
        }
        if self.interrupt.is_raised() && matches!(&self.state, State::Configuring(_)) {
            return Err(self.fail(transport::stop_error(Stop::Cancelled)));
        }
        let fetched = match &self.state {
            State::Open(open) => matches!(open.paging, Paging::Sessions(Some(_))),
            _ => false,
        };
        if !fetched {
            let sessions = self.calls()?.sessions();
            let sessions = sessions.map_err(|e| self.fail(e))?;
            let count = sessions.len();
            self.tally.ended = Some(Instant::now());
            self.log.emit(Level::Info, || format!("{count} upload session{}", if count == 1 { "" } else { "s" }));
            if let State::Open(open) = &mut self.state {
                open.paging = Paging::Sessions(Some(sessions.into_iter()));
            }
        }
        match &mut self.state {
            State::Open(open) => match &mut open.paging {
                Paging::Sessions(Some(rest)) => Ok(rest.next()),
                _ => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// The listing's connection, log and traffic for the calls of an upload, starting the
    /// listing if it has not started (the deadline counts from here; settings are fixed).
    /// The calls' errors are the caller's to keep (through [`Listing::fail`]).
    pub fn calls(&mut self) -> Result<Calls<'_>, Error> {
        self.started()?;
        let State::Open(open) = &mut self.state else { unreachable!("started() leaves the listing open") };
        Ok(Calls { conn: &mut open.conn, log: &mut self.log, traffic: &mut self.tally.traffic })
    }

    /// Starts the listing if it is still being configured: Ok once it is open, its error
    /// otherwise.
    fn started(&mut self) -> Result<(), Error> {
        if let State::Configuring(_) = self.state {
            self.start()?;
        }
        match &self.state {
            State::Open(_) => Ok(()),
            State::Failed(e) => Err(e.clone()),
            State::Configuring(_) => unreachable!("start() leaves Configuring"),
        }
    }

    /// Leaves Configuring: the deadline starts counting and the client is ready.
    fn start(&mut self) -> Result<(), Error> {
        let State::Configuring(target) = &self.state else { return Ok(()) };
        let shared = target.client.clone();
        self.tally.started = Some(Instant::now());
        let client = match shared {
            Some(shared) => shared,
            None => Client::new(&ClientSettings::of_listing(&self.settings)).map_err(|e| self.fail(e))?,
        };
        // Taken by value; the placeholder is what a panic before the next line would leave.
        let leaving = State::Failed(Error::new(ErrorKind::Internal, "the listing failed while starting"));
        let State::Configuring(target) = std::mem::replace(&mut self.state, leaving) else {
            unreachable!("checked above")
        };
        let stops = Stops {
            interrupt: self.interrupt.clone(),
            deadline: self.settings.deadline.map_or(Deadline::NONE, Deadline::after),
        };
        let transport = Transport::new(
            client,
            target.origin,
            &target.session_id,
            self.settings.timeout,
            stops,
            self.tally.io.clone(),
        );
        let conn = Conn::new(transport, Retry::new(&self.settings), &self.settings.api_version);
        let paging = match &target.upload {
            UploadTarget::Existing { upload_session_id } => {
                Paging::Fetching(Pager::new(upload_session_id, &self.settings))
            }
            UploadTarget::New { .. } => Paging::Done,
            UploadTarget::Account => Paging::Sessions(None),
        };
        self.state = State::Open(Box::new(Open { conn, upload: target.upload, paging }));
        Ok(())
    }
}

/// The paging of a listing under way: where it is, and the fetch of each page.
struct Pager {
    parts: std::vec::IntoIter<Part>,
    /// The link to fetch next, unchecked until it is about to be fetched.
    next_link: Option<String>,
    /// Pages in a row that held no parts.
    empty_pages: u32,
    /// A keyed hash of every URL fetched: a link back to one of them is a loop. At most
    /// MAX_PAGES entries; the per-handle random key means a server cannot craft a collision
    /// that would end a listing early.
    fetched: HashSet<u64>,
    url_hasher: RandomState,
}

impl Pager {
    fn new(upload_session_id: &str, settings: &Settings) -> Pager {
        let mut first = format!("/api/{}/services/file_staging/upload/{upload_session_id}/parts", settings.api_version);
        if let Some(limit) = settings.limit {
            first.push_str(&format!("?limit={limit}"));
        }
        Pager {
            parts: Vec::new().into_iter(),
            next_link: Some(first),
            empty_pages: 0,
            fetched: HashSet::new(),
            url_hasher: RandomState::new(),
        }
    }

    /// The next part, fetching pages as needed; Ok(None) after the last page.
    fn next(&mut self, conn: &mut Conn, log: &mut Log, tally: &mut Tally) -> Result<Option<Part>, Error> {
        loop {
            if let Some(part) = self.parts.next() {
                return Ok(Some(part));
            }
            let Some(link) = self.next_link.take() else { return Ok(None) };
            let page_no = tally.pages + 1;
            let page = self.fetch(conn, &link, page_no, log, &mut tally.traffic)?;
            // Counted once accepted, as vault_parts_stats says: a refused page is not.
            self.accept(page, page_no, log)?;
            tally.pages = page_no;
        }
    }

    /// Checks the bounds and the link, then fetches the page it points to, with retries.
    fn fetch(
        &mut self,
        conn: &mut Conn,
        link: &str,
        page_no: u64,
        log: &mut Log,
        traffic: &mut Traffic,
    ) -> Result<Page, Error> {
        if page_no > u64::from(MAX_PAGES) {
            return Err(Error::protocol(format!(
                "page {page_no}: the server links past {MAX_PAGES} pages, the most one listing fetches \
                 (VAULT_PARTS_MAX_PAGES)"
            )));
        }
        let url = transport::resolve(conn.origin(), link, log.redactor())
            .map_err(|why| Error::protocol(format!("page {page_no}: next_page refused: {why}")))?;
        if !self.fetched.insert(self.url_hasher.hash_one(&url)) {
            return Err(Error::protocol(format!(
                "page {page_no}: next_page {url} was fetched before: a pagination loop"
            )));
        }
        let limit = asked_limit(&url);
        let request = Request::new(Method::Get, url);
        let what = format!("page {page_no}");
        let page = conn.call(&request, &what, log, traffic, read)?;
        if page.parts.len() > limit as usize {
            // A handle keeps its page: the header's memory bound holds only for pages as asked.
            return Err(Error::protocol(format!(
                "page {page_no}: {} parts, more than the limit of {limit} its request asked for",
                page.parts.len()
            )));
        }
        Ok(page)
    }

    /// Queues a fetched page's parts, ending the listing when empty pages keep linking on.
    fn accept(&mut self, page: Page, page_no: u64, log: &mut Log) -> Result<(), Error> {
        let (count, more) = (page.parts.len(), page.next_page.is_some());
        self.empty_pages = if count == 0 { self.empty_pages + 1 } else { 0 };
        log.emit(Level::Info, || {
            let plural = if count == 1 { "" } else { "s" };
            format!("page {page_no}: {count} part{plural}, {}", if more { "more pages follow" } else { "last page" })
        });
        if more && self.empty_pages > MAX_EMPTY_PAGES {
            return Err(Error::protocol(format!(
                "page {page_no}: more than {MAX_EMPTY_PAGES} pages in a row held no parts yet linked onward \
                 (VAULT_PARTS_MAX_EMPTY_PAGES)"
            )));
        }
        self.parts = page.parts.into_iter();
        self.next_link = page.next_page;
        Ok(())
    }
}

/// The `limit` a page request asks for (the first page's from vault_parts_set_limit, a later
/// one's from the server's next_page link); Vault's default, its largest, when it names none.
fn asked_limit(url: &str) -> u32 {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("limit=")?.parse::<u32>().ok())
        .map_or(page::MAX_PAGE_PARTS, |n| n.min(page::MAX_PAGE_PARTS))
}

/// A 200 body as a page, or the failure it reports.
fn read(reply: Reply) -> Result<Page, Failure> {
    match page::parse(&reply.body) {
        Ok(Outcome::Parts(page)) => Ok(page),
        Ok(Outcome::Failed(e)) => Err(Failure::new(e, Cause::Vault).after(reply.retry_after)),
        Err(e) => Err(Failure::broken(e)),
    }
}

// The C API lets a handle move between threads.
const _: () = {
    const fn assert_send<T: Send>() {}
    assert_send::<Listing>();
};

impl Iterator for Listing {
    type Item = Result<Part, Error>;

    /// Yields each part, then None. An error is yielded once, then None: the Rust iterator is
    /// fused, while [`Listing::next_part`] (what the C API calls) repeats the error.
    fn next(&mut self) -> Option<Self::Item> {
        if self.error_yielded {
            return None;
        }
        let item = self.next_part().transpose();
        self.error_yielded = matches!(item, Some(Err(_)));
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_a_page_may_hold_is_the_one_its_url_asks_for() {
        let base = "http://127.0.0.1:9/api/v25.3/services/file_staging/upload/u/parts";
        assert_eq!(asked_limit(&format!("{base}?limit=2")), 2);
        assert_eq!(asked_limit(&format!("{base}?cursor=abc&limit=5")), 5);
        assert_eq!(asked_limit(&format!("{base}?cursor=abc&xlimit=5")), 1000, "another parameter");
        assert_eq!(asked_limit(&format!("{base}?limit=2#limit=9")), 2, "not the fragment");
        assert_eq!(asked_limit(&format!("{base}?limit=5000")), 1000, "Vault's largest");
        assert_eq!(asked_limit(base), 1000, "none named: Vault's default");
    }

    fn pager() -> Pager {
        Pager::new("u", &Settings::default())
    }

    fn conn() -> Conn {
        let target = Target::check("http://127.0.0.1:9", "sid-unit-test", existing("u")).unwrap();
        let client = Client::new(&ClientSettings::default()).unwrap();
        let timeout = Duration::from_secs(1);
        let transport =
            Transport::new(client, target.origin, &target.session_id, timeout, Stops::default(), Arc::default());
        Conn::new(transport, Retry::new(&Settings::default()), "v25.3")
    }

    fn existing(id: &str) -> UploadTarget {
        UploadTarget::Existing { upload_session_id: id.to_owned() }
    }

    fn empty_page(next: Option<&str>) -> Page {
        Page { parts: Vec::new(), next_page: next.map(str::to_owned) }
    }

    #[test]
    fn empty_pages_that_link_onward_are_bounded() {
        let (mut p, mut log) = (pager(), Log::default());
        for n in 1..=u64::from(MAX_EMPTY_PAGES) {
            p.accept(empty_page(Some("/next")), n, &mut log).unwrap();
        }
        let e = p.accept(empty_page(Some("/next")), 11, &mut log).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.message().contains("VAULT_PARTS_MAX_EMPTY_PAGES"), "{e}");
        // A last page may be empty; a page with parts resets the count.
        let mut p = pager();
        for n in 1..=u64::from(MAX_EMPTY_PAGES) {
            p.accept(empty_page(Some("/next")), n, &mut log).unwrap();
        }
        p.accept(
            Page { parts: vec![Part { part_number: 1, size: 1, md5: None }], next_page: Some("/n".into()) },
            11,
            &mut log,
        )
        .unwrap();
        p.accept(empty_page(None), 12, &mut log).unwrap();
    }

    #[test]
    fn an_interrupt_before_the_first_page_sends_nothing_and_sticks() {
        let mut l = Listing::new("http://127.0.0.1:9", "sid-unit-test", "u");
        l.interrupter().interrupt();
        assert_eq!(l.next_part().unwrap_err().kind(), ErrorKind::Cancelled);
        assert_eq!(l.next_part().unwrap_err().kind(), ErrorKind::Cancelled);
        let stats = l.stats();
        assert_eq!((stats.requests, stats.connections, stats.pages), (0, 0, 0));
        assert_eq!((l.http_status(), l.retry_after()), (0, None));
    }

    #[test]
    fn a_listing_on_a_shared_client_leaves_trust_and_client_id_to_the_client() {
        let client = Client::new(&ClientSettings::default()).unwrap();
        let mut l = Listing::with_client("http://127.0.0.1:9", "sid-unit-test", "u", client);
        assert_eq!(l.owns_connection().unwrap_err().kind(), ErrorKind::Arg);
        assert!(l.error().is_none(), "the refusal changes nothing");
        l.configure(|s| s.set_deadline_ms(5)).unwrap();
        assert!(Listing::new("http://127.0.0.1:9", "sid-unit-test", "u").owns_connection().is_ok());
    }

    #[test]
    fn pages_past_the_bound_are_not_fetched() {
        let (mut p, mut log, mut tally) = (pager(), Log::default(), Tally::default());
        tally.pages = u64::from(MAX_PAGES);
        let e = p.next(&mut conn(), &mut log, &mut tally).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.message().starts_with("page 10001: ") && e.message().contains("VAULT_PARTS_MAX_PAGES"), "{e}");
        assert!(p.fetched.is_empty(), "nothing was fetched or remembered");
        assert_eq!((tally.pages, tally.traffic.requests), (u64::from(MAX_PAGES), 0));
    }
}
