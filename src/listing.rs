//! The iterator itself: configure, then page through the parts, following next_page links
//! within the origin, retrying what may pass, and keeping the first error for good.

use crate::backoff::Backoff;
use crate::error::{Error, ErrorKind};
use crate::log::{Level, Log, Sink};
use crate::origin::{check_session_id, check_upload_session_id, Origin};
use crate::page::{self, Outcome, Part};
use crate::settings::Settings;
use crate::transport::{Failure, Transport};
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::BuildHasher;
use std::thread;

/// Lists the parts of one upload session. Setters work until the first call to
/// [`Listing::next_part`]; any error is kept, and every later call returns it again.
pub struct Listing {
    target: Option<Target>,
    settings: Settings,
    log: Log,
    state: State,
    error_yielded: bool,
    /// The last X-VaultAPI-BurstLimitRemaining seen, -1 before any.
    burst_remaining: i64,
}

struct Target {
    origin: Origin,
    session_id: String,
    upload_session_id: String,
}

enum State {
    Configuring,
    Paging(Box<Paging>),
    Done,
    Failed(Error),
}

struct Paging {
    transport: Transport,
    backoff: Backoff,
    parts: std::vec::IntoIter<Part>,
    /// The link to fetch next, unchecked until it is about to be fetched.
    next_link: Option<String>,
    /// Pages fetched so far.
    pages: u32,
    /// A keyed hash of every URL fetched: a link back to one of them is a loop. Hashes, not
    /// the URLs, so a listing of 10,000 pages stays small; the per-handle random key means a
    /// server cannot craft a collision that would end a listing early.
    fetched: HashSet<u64>,
    url_hasher: RandomState,
}

impl Listing {
    /// Checks the arguments; does no I/O. A bad argument leaves the listing failed with
    /// [`ErrorKind::Arg`], so the caller can read why from [`Listing::error`].
    pub fn new(vault_url: &str, session_id: &str, upload_session_id: &str) -> Listing {
        let target = Origin::parse_vault_url(vault_url).and_then(|origin| {
            check_session_id(session_id)?;
            check_upload_session_id(upload_session_id)?;
            Ok(Target { origin, session_id: session_id.to_owned(), upload_session_id: upload_session_id.to_owned() })
        });
        let mut listing = Listing {
            target: None,
            settings: Settings::default(),
            log: Log::new(session_id),
            state: State::Configuring,
            error_yielded: false,
            burst_remaining: -1,
        };
        match target {
            Ok(t) => listing.target = Some(t),
            Err(e) => {
                listing.fail(e.redact(session_id));
            }
        }
        listing
    }

    /// A listing that failed before it could be made (a NULL or non-UTF-8 argument).
    pub fn failed(error: Error) -> Listing {
        Listing {
            target: None,
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

    /// Records `error` as this listing's final state (unless it already failed) and returns it.
    pub fn fail(&mut self, error: Error) -> Error {
        if let State::Failed(first) = &self.state {
            return first.clone();
        }
        self.log.emit(Level::Error, || error.message().to_owned());
        self.state = State::Failed(error.clone());
        error
    }

    /// Applies a setting if the listing has not started or failed; a rejected value fails it.
    pub fn configure(&mut self, apply: impl FnOnce(&mut Settings) -> Result<(), Error>) -> Result<(), Error> {
        match &self.state {
            State::Failed(e) => return Err(e.clone()),
            State::Configuring => {}
            State::Paging(_) | State::Done => {
                return Err(self.fail(Error::arg("settings can be changed only before the first vault_parts_next")));
            }
        }
        apply(&mut self.settings).map_err(|e| self.fail(e))
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
        loop {
            match &mut self.state {
                State::Failed(e) => return Err(e.clone()),
                State::Done => return Ok(None),
                State::Configuring => self.start(),
                State::Paging(paging) => {
                    if let Some(part) = paging.parts.next() {
                        return Ok(Some(part));
                    }
                    let Some(link) = paging.next_link.take() else {
                        let pages = paging.pages;
                        self.log.emit(Level::Info, || {
                            format!("listing complete after {pages} page{}", if pages == 1 { "" } else { "s" })
                        });
                        self.state = State::Done;
                        return Ok(None);
                    };
                    if let Err(e) = self.fetch(&link) {
                        return Err(self.fail(e));
                    }
                }
            }
        }
    }

    fn start(&mut self) {
        let Some(target) = &self.target else {
            // Unreachable: without a target the listing was failed in new().
            self.state = State::Failed(Error::new(ErrorKind::Internal, "listing has no target"));
            return;
        };
        let mut first = format!(
            "/api/{}/services/file_staging/upload/{}/parts",
            self.settings.api_version, target.upload_session_id
        );
        if let Some(limit) = self.settings.limit {
            first.push_str(&format!("?limit={limit}"));
        }
        self.state = State::Paging(Box::new(Paging {
            transport: Transport::new(&self.settings, &target.session_id, &target.origin),
            backoff: Backoff::new(self.settings.backoff_initial, self.settings.backoff_max),
            parts: Vec::new().into_iter(),
            next_link: Some(first),
            pages: 0,
            fetched: HashSet::new(),
            url_hasher: RandomState::new(),
        }));
    }

    /// Fetches the page `link` points to, with retries, and queues its parts.
    fn fetch(&mut self, link: &str) -> Result<(), Error> {
        let (State::Paging(paging), Some(target)) = (&mut self.state, &self.target) else {
            return Err(Error::new(ErrorKind::Internal, "fetch outside paging"));
        };
        let page_no = paging.pages + 1;
        let secret = target.session_id.as_str();
        let url = target
            .origin
            .resolve(link)
            .map_err(|why| Error::protocol(format!("page {page_no}: next_page refused: {why}")).redact(secret))?;
        if !paging.fetched.insert(paging.url_hasher.hash_one(&url)) {
            return Err(Error::protocol(format!(
                "page {page_no}: next_page {url} was fetched before: a pagination loop"
            ))
            .redact(secret));
        }
        let attempts = self.settings.max_attempts;
        let mut attempt = 1;
        let page = loop {
            let result = paging.transport.get(&target.origin, &url, &mut self.log);
            self.burst_remaining = paging.transport.burst_remaining;
            let result = result.and_then(|body| match page::parse(&body) {
                Ok(Outcome::Parts(page)) => Ok(page),
                Ok(Outcome::Failed(e)) if e.kind() == ErrorKind::RateLimit => Err(Failure::transient(e, None)),
                Ok(Outcome::Failed(e)) => Err(Failure::fatal(e)),
                Err(e) => Err(Failure::fatal(e)),
            });
            match result {
                Ok(page) => break page,
                Err(f) if f.retry && attempt < attempts => {
                    let wait = paging.backoff.wait(attempt, f.retry_after);
                    self.log.emit(Level::Warn, || {
                        format!(
                            "page {page_no}: attempt {attempt} of {attempts} failed ({}); retrying in {} ms",
                            f.error,
                            wait.as_millis()
                        )
                    });
                    thread::sleep(wait);
                    attempt += 1;
                }
                Err(f) => {
                    let tries = if attempt > 1 { format!(" (after {attempt} attempts)") } else { String::new() };
                    return Err(f.error.context(format!("page {page_no} (GET {url}){tries}")).redact(secret));
                }
            }
        };
        paging.pages = page_no;
        let count = page.parts.len();
        let more = page.next_page.is_some();
        self.log.emit(Level::Info, || {
            let plural = if count == 1 { "" } else { "s" };
            format!("page {page_no}: {count} part{plural}, {}", if more { "more pages follow" } else { "last page" })
        });
        paging.parts = page.parts.into_iter();
        paging.next_link = page.next_page;
        Ok(())
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
