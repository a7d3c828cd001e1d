//! The iterator itself: configure, then page through the parts, following next_page links
//! within the origin, retrying what may pass, and keeping the first error for good.

use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind, Redactor};
use crate::log::{Level, Log, Sink};
use crate::origin::{check_session_id, check_upload_session_id, Origin};
use crate::page::{self, Outcome, Page, Part};
use crate::settings::Settings;
use crate::transport::{self, Failure, Transport};
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::thread;

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
    /// The last X-VaultAPI-BurstLimitRemaining seen, -1 before any. Written only from what
    /// the transport returns for each attempt.
    burst_remaining: i64,
}

/// Where the requests go and what they carry.
struct Target {
    origin: Origin,
    session_id: String,
    upload_session_id: String,
}

impl Target {
    fn check(vault_url: &str, session_id: &str, upload_session_id: &str) -> Result<Target, Error> {
        let origin = Origin::parse_vault_url(vault_url)?;
        check_session_id(session_id)?;
        check_upload_session_id(upload_session_id)?;
        Ok(Target { origin, session_id: session_id.to_owned(), upload_session_id: upload_session_id.to_owned() })
    }
}

enum State {
    Configuring(Target),
    Paging(Box<Pager>),
    Done,
    Failed(Error),
}

/// Misuse: the call is refused and the listing is left exactly as it was.
fn misuse(what: &str) -> Error {
    Error::arg(format!("{what} is allowed only before the first vault_parts_next"))
}

impl Listing {
    /// Checks the arguments; does no I/O. A bad argument leaves the listing failed with
    /// [`ErrorKind::Arg`], so the caller can read why from [`Listing::error`].
    pub fn new(vault_url: &str, session_id: &str, upload_session_id: &str) -> Listing {
        let log = Log::new(Redactor::new(session_id));
        let target = Target::check(vault_url, session_id, upload_session_id);
        let state = match target {
            Ok(t) => State::Configuring(t),
            Err(e) => State::Failed(e.shown(log.redactor())),
        };
        Listing { settings: Settings::default(), log, state, error_yielded: false, burst_remaining: -1 }
    }

    /// A listing that failed before it could be made (a NULL or non-UTF-8 argument).
    pub fn failed(error: Error) -> Listing {
        let error = error.shown(&Redactor::default());
        Listing {
            settings: Settings::default(),
            log: Log::default(),
            state: State::Failed(error),
            error_yielded: false,
            burst_remaining: -1,
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
        self.burst_remaining
    }

    /// Records `error` as this listing's final state (unless it already failed) and returns
    /// the error the listing keeps. The error passes the redactor here, once, for good.
    pub fn fail(&mut self, error: Error) -> Error {
        if let State::Failed(first) = &self.state {
            return first.clone();
        }
        let error = error.shown(self.log.redactor());
        self.log.emit(Level::Error, || error.message().to_owned());
        self.state = State::Failed(error.clone());
        error
    }

    /// Applies a setting before the first page; a rejected value fails the listing for good.
    /// After the first page the call is refused and changes nothing (sqlite's misuse rule).
    pub fn configure(&mut self, apply: impl FnOnce(&mut Settings) -> Result<(), Error>) -> Result<(), Error> {
        match &self.state {
            State::Failed(e) => Err(e.clone()),
            State::Configuring(_) => apply(&mut self.settings).map_err(|e| self.fail(e)),
            State::Paging(_) | State::Done => Err(misuse("changing a setting").shown(self.log.redactor())),
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

    /// The next part, Ok(None) once all are listed, or the listing's error.
    pub fn next_part(&mut self) -> Result<Option<Part>, Error> {
        if let State::Configuring(_) = self.state {
            self.start();
        }
        let State::Paging(pager) = &mut self.state else {
            return match &self.state {
                State::Failed(e) => Err(e.clone()),
                _ => Ok(None),
            };
        };
        match pager.next(&mut self.log, &mut self.burst_remaining) {
            Ok(Some(part)) => Ok(Some(part)),
            Ok(None) => {
                let pages = pager.pages;
                self.log.emit(Level::Info, || {
                    format!("listing complete after {pages} page{}", if pages == 1 { "" } else { "s" })
                });
                self.state = State::Done;
                Ok(None)
            }
            Err(e) => Err(self.fail(e)),
        }
    }

    fn start(&mut self) {
        if let State::Configuring(target) = std::mem::replace(&mut self.state, State::Done) {
            self.state = State::Paging(Box::new(Pager::new(target, &self.settings)));
        }
    }
}

/// A listing under way: its connection, where it is, and the fetch-with-retries loop.
struct Pager {
    transport: Transport,
    origin: Origin,
    backoff: Backoff,
    max_attempts: u32,
    parts: std::vec::IntoIter<Part>,
    /// The link to fetch next, unchecked until it is about to be fetched.
    next_link: Option<String>,
    /// Pages fetched so far.
    pages: u32,
    /// Pages in a row that held no parts.
    empty_pages: u32,
    /// A keyed hash of every URL fetched: a link back to one of them is a loop. At most
    /// MAX_PAGES entries; the per-handle random key means a server cannot craft a collision
    /// that would end a listing early.
    fetched: HashSet<u64>,
    url_hasher: RandomState,
}

impl Pager {
    fn new(target: Target, settings: &Settings) -> Pager {
        let mut first =
            format!("/api/{}/services/file_staging/upload/{}/parts", settings.api_version, target.upload_session_id);
        if let Some(limit) = settings.limit {
            first.push_str(&format!("?limit={limit}"));
        }
        Pager {
            transport: Transport::new(settings, &target.session_id, &target.origin),
            origin: target.origin,
            backoff: Backoff::new(settings.backoff_initial, settings.backoff_max),
            max_attempts: settings.max_attempts,
            parts: Vec::new().into_iter(),
            next_link: Some(first),
            pages: 0,
            empty_pages: 0,
            fetched: HashSet::new(),
            url_hasher: RandomState::new(),
        }
    }

    /// The next part, fetching pages as needed; Ok(None) after the last page.
    fn next(&mut self, log: &mut Log, burst: &mut i64) -> Result<Option<Part>, Error> {
        loop {
            if let Some(part) = self.parts.next() {
                return Ok(Some(part));
            }
            let Some(link) = self.next_link.take() else { return Ok(None) };
            let page = self.fetch(&link, log, burst)?;
            self.accept(page, log)?;
        }
    }

    /// Checks the bounds and the link, then fetches the page it points to, with retries.
    fn fetch(&mut self, link: &str, log: &mut Log, burst: &mut i64) -> Result<Page, Error> {
        let page_no = self.pages + 1;
        if page_no > MAX_PAGES {
            return Err(Error::protocol(format!(
                "page {page_no}: the server links past {MAX_PAGES} pages, the most one listing fetches \
                 (VAULT_PARTS_MAX_PAGES)"
            )));
        }
        let url = transport::resolve(&self.origin, link, log.redactor())
            .map_err(|why| Error::protocol(format!("page {page_no}: next_page refused: {why}")))?;
        if !self.fetched.insert(self.url_hasher.hash_one(&url)) {
            return Err(Error::protocol(format!(
                "page {page_no}: next_page {url} was fetched before: a pagination loop"
            )));
        }
        self.attempts(&url, page_no, log, burst)
    }

    fn attempts(&mut self, url: &str, page_no: u32, log: &mut Log, burst: &mut i64) -> Result<Page, Error> {
        let max = self.max_attempts;
        let mut attempt = 1;
        loop {
            let answer = self.transport.get(&self.origin, url, log);
            if let Some(n) = answer.burst_remaining {
                *burst = n;
            }
            match answer.result.and_then(|reply| read(&reply.body, reply.retry_after)) {
                Ok(page) => return Ok(page),
                Err(f) if f.retry && attempt < max => {
                    let wait = self.backoff.wait(attempt, f.retry_after);
                    log.emit(Level::Warn, || {
                        format!(
                            "page {page_no}: attempt {attempt} of {max} failed ({}); retrying in {} ms",
                            f.error,
                            wait.as_millis()
                        )
                    });
                    thread::sleep(wait);
                    attempt += 1;
                }
                Err(f) => {
                    let tries = if attempt > 1 { format!(" (after {attempt} attempts)") } else { String::new() };
                    return Err(f.error.context(format!("page {page_no} (GET {url}){tries}")));
                }
            }
        }
    }

    /// Queues a fetched page's parts, ending the listing when empty pages keep linking on.
    fn accept(&mut self, page: Page, log: &mut Log) -> Result<(), Error> {
        self.pages += 1;
        let (page_no, count, more) = (self.pages, page.parts.len(), page.next_page.is_some());
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

/// A 200 body as a page, or the failure it reports: API_LIMIT_EXCEEDED is retried after the
/// Retry-After the answer carried, as for HTTP 429.
fn read(body: &[u8], retry_after: Option<std::time::Duration>) -> Result<Page, Failure> {
    match page::parse(body) {
        Ok(Outcome::Parts(page)) => Ok(page),
        Ok(Outcome::Failed(e)) if e.kind() == ErrorKind::RateLimit => Err(Failure::transient(e, retry_after)),
        Ok(Outcome::Failed(e)) | Err(e) => Err(Failure::fatal(e)),
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

    fn pager() -> Pager {
        let target = Target::check("http://127.0.0.1:9", "sid-unit-test", "u").unwrap();
        Pager::new(target, &Settings::default())
    }

    fn empty_page(next: Option<&str>) -> Page {
        Page { parts: Vec::new(), next_page: next.map(str::to_owned) }
    }

    #[test]
    fn empty_pages_that_link_onward_are_bounded() {
        let (mut p, mut log) = (pager(), Log::default());
        for _ in 0..MAX_EMPTY_PAGES {
            p.accept(empty_page(Some("/next")), &mut log).unwrap();
        }
        let e = p.accept(empty_page(Some("/next")), &mut log).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.message().contains("VAULT_PARTS_MAX_EMPTY_PAGES"), "{e}");
        // A last page may be empty; a page with parts resets the count.
        let mut p = pager();
        for _ in 0..MAX_EMPTY_PAGES {
            p.accept(empty_page(Some("/next")), &mut log).unwrap();
        }
        p.accept(
            Page { parts: vec![Part { part_number: 1, size: 1, md5: None }], next_page: Some("/n".into()) },
            &mut log,
        )
        .unwrap();
        p.accept(empty_page(None), &mut log).unwrap();
    }

    #[test]
    fn pages_past_the_bound_are_not_fetched() {
        let (mut p, mut log, mut burst) = (pager(), Log::default(), -1);
        p.pages = MAX_PAGES;
        let e = p.fetch("/p?c=x", &mut log, &mut burst).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Protocol);
        assert!(e.message().starts_with("page 10001: ") && e.message().contains("VAULT_PARTS_MAX_PAGES"), "{e}");
        assert!(p.fetched.is_empty(), "nothing was fetched or remembered");
    }
}
