//! The running simulator's state: upload sessions, their commits' jobs and the files on
//! staging. A session's stored parts are the one truth its listing, details and commit are
//! made from. Requests are counted here, per session and kind, to pick the fault that hits
//! each one. Vault's rules for each call live here; api.rs reads requests and writes answers.

use crate::faults::{Action, Endpoint, FaultOn};
use crate::model::{hex, md5_for, Config, LinkStyle, SessionIds, SimPart, Upload};
use md5::{Digest, Md5};
use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The highest part number Vault accepts (v26.2).
pub const MAX_PART_NUMBER: u32 = 9616;

/// Why Vault refuses a call: its error type and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub kind: &'static str,
    pub message: String,
}

impl Refusal {
    pub fn new(kind: &'static str, message: impl Into<String>) -> Refusal {
        Refusal { kind, message: message.into() }
    }

    fn no_session() -> Refusal {
        Refusal::new("INVALID_DATA", "Invalid upload session ID.")
    }
}

/// Where a stored part's bytes are.
#[derive(Clone, Debug)]
enum Content {
    /// Received in a part upload.
    Bytes(Arc<Vec<u8>>),
    /// At this offset of a local file the session was made from.
    File { path: Arc<str>, offset: u64 },
    /// Not known: a synthetic part, or one a part fault changed.
    Unknown,
}

struct Stored {
    part: SimPart,
    content: Content,
}

/// Where an upload session is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    /// Taking parts.
    Open,
    /// Committed; its job runs. Parts, commits and aborts are refused meanwhile.
    Committing { job_id: u64 },
    /// Its job succeeded: the file is on staging and the session is gone.
    Committed { job_id: u64 },
    /// Aborted: its parts purged, the session gone.
    Aborted,
}

impl SessionState {
    /// Open or committing: counted among the active sessions, visible to the API.
    pub fn is_active(self) -> bool {
        matches!(self, SessionState::Open | SessionState::Committing { .. })
    }
}

pub(crate) struct Session {
    pub id: String,
    pub owner: String,
    pub path: String,
    pub size: u64,
    pub overwrite: bool,
    pub links: LinkStyle,
    pub created: SystemTime,
    pub last_uploaded: SystemTime,
    pub state: SessionState,
    parts: Vec<Stored>,
    faults: Vec<FaultOn>,
    counts: HashMap<Endpoint, u32>,
    put_order: Vec<u32>,
    puts_in_flight: u32,
    max_puts_in_flight: u32,
    commits: Vec<Instant>,
    jobs: Vec<u64>,
}

impl Session {
    fn new(id: String, owner: String, path: String, size: u64, overwrite: bool, faults: Vec<FaultOn>) -> Session {
        let now = SystemTime::now();
        Session {
            id,
            owner,
            path,
            size,
            overwrite,
            links: LinkStyle::Absolute,
            created: now,
            last_uploaded: now,
            state: SessionState::Open,
            parts: Vec::new(),
            faults,
            counts: HashMap::new(),
            put_order: Vec::new(),
            puts_in_flight: 0,
            max_puts_in_flight: 0,
            commits: Vec::new(),
            jobs: Vec::new(),
        }
    }

    fn from_upload(upload: &Upload) -> Session {
        let parts = upload.described_parts();
        let size = upload.size.unwrap_or_else(|| parts.iter().map(|p| p.size).sum());
        let path = upload.path.clone().unwrap_or_else(|| format!("/u/{}/{}", upload.owner, upload.id));
        let mut session =
            Session::new(upload.id.clone(), upload.owner.clone(), path, size, upload.overwrite, upload.all_faults());
        session.links = upload.links;
        let source = upload.source.as_ref();
        let file = source.map(|s| Arc::<str>::from(s.path.as_str()));
        session.parts = parts
            .into_iter()
            .map(|part| {
                let from_file = source.is_some_and(|s| s.parts.contains(&part));
                let content = match (&file, source) {
                    (Some(path), Some(s)) if from_file => {
                        Content::File { path: path.clone(), offset: u64::from(part.number - 1) * s.part_size }
                    }
                    _ => Content::Unknown,
                };
                Stored { part, content }
            })
            .collect();
        session
    }

    /// Counts a request to `endpoint` and returns the action of the first fault aimed at it
    /// that matches its number.
    fn count(&mut self, endpoint: Endpoint) -> Option<Action> {
        count(&mut self.counts, &self.faults, endpoint)
    }

    /// The stored parts, in listing order.
    pub fn parts(&self) -> impl ExactSizeIterator<Item = &SimPart> {
        self.parts.iter().map(|s| &s.part)
    }

    /// Bytes stored so far.
    pub fn uploaded(&self) -> u64 {
        self.parts.iter().map(|s| s.part.size).sum()
    }

    fn is_open(&self) -> Result<(), Refusal> {
        match self.state {
            SessionState::Open => Ok(()),
            SessionState::Committing { .. } => {
                Err(Refusal::new("OPERATION_NOT_ALLOWED", "The upload session is being committed."))
            }
            SessionState::Committed { .. } | SessionState::Aborted => Err(Refusal::no_session()),
        }
    }

    /// Stores part `number` (overwriting a stored one of that number) after Vault's checks.
    fn put(&mut self, number: u32, bytes: Vec<u8>, md5: [u8; 16], rules: &Rules) -> Result<SimPart, Refusal> {
        self.is_open()?;
        let mut stored = vec![false; number as usize];
        for s in self.parts.iter().filter(|s| s.part.number < number) {
            stored[s.part.number as usize] = true;
        }
        let missing = (1..number).find(|n| !stored[*n as usize]);
        if let Some(first) = missing {
            return Err(Refusal::new(
                "OPERATION_NOT_ALLOWED",
                format!("File parts must be uploaded in numerical order: part {number} before part {first}."),
            ));
        }
        let size = bytes.len() as u64;
        let others: u64 = self.parts.iter().filter(|s| s.part.number != number).map(|s| s.part.size).sum();
        if size > rules.max_part_size {
            return Err(Refusal::new(
                "INVALID_DATA",
                format!("File parts may be at most {} bytes.", rules.max_part_size),
            ));
        }
        if others + size > self.size {
            return Err(Refusal::new("OPERATION_NOT_ALLOWED", "Unable to upload additional file parts/bytes."));
        }
        if size == 0 || (size < rules.min_part_size && others + size != self.size) {
            return Err(Refusal::new(
                "INVALID_DATA",
                format!("File parts must be at least {} bytes, except for the last part.", rules.min_part_size),
            ));
        }
        let part = SimPart { number, size, md5: Some(hex(&md5)) };
        let stored = Stored { part: part.clone(), content: Content::Bytes(Arc::new(bytes)) };
        match self.parts.iter().position(|s| s.part.number == number) {
            Some(i) => self.parts[i] = stored,
            None => {
                let at = self.parts.iter().rposition(|s| s.part.number < number).map_or(0, |i| i + 1);
                self.parts.insert(at, stored);
            }
        }
        self.last_uploaded = SystemTime::now();
        Ok(part)
    }

    /// What the commit's job finds: SUCCESS when parts 1..n are stored once each, in order,
    /// and add up to the declared size (and the path is free or may be overwritten).
    fn job_end(&self, staged: &HashMap<String, StagedFile>) -> &'static str {
        let numbered = self.parts.iter().enumerate().all(|(i, s)| s.part.number as usize == i + 1);
        let path_free = self.overwrite || !staged.contains_key(&self.path);
        if numbered && self.uploaded() == self.size && path_free {
            "SUCCESS"
        } else {
            "ERRORS_ENCOUNTERED"
        }
    }

    fn view(&self) -> SessionView {
        SessionView {
            id: self.id.clone(),
            owner: self.owner.clone(),
            path: self.path.clone(),
            size: self.size,
            overwrite: self.overwrite,
            state: self.state,
            parts: self.parts().cloned().collect(),
            put_order: self.put_order.clone(),
            max_puts_in_flight: self.max_puts_in_flight,
            commits: self.commits.clone(),
            jobs: self.jobs.clone(),
        }
    }
}

fn count(counts: &mut HashMap<Endpoint, u32>, faults: &[FaultOn], endpoint: Endpoint) -> Option<Action> {
    let n = counts.entry(endpoint).or_insert(0);
    *n += 1;
    let n = *n;
    faults.iter().find(|f| f.endpoint == endpoint && f.fault.when.matches(n)).map(|f| f.fault.action.clone())
}

/// What a test can see of an upload session.
#[derive(Clone, Debug)]
pub struct SessionView {
    pub id: String,
    pub owner: String,
    /// The staging path the committed file goes to.
    pub path: String,
    /// The declared size.
    pub size: u64,
    pub overwrite: bool,
    pub state: SessionState,
    /// The stored parts in listing order (none once aborted).
    pub parts: Vec<SimPart>,
    /// The X-VaultAPI-FilePartNumber of every PUT, in the order their heads arrived, refused
    /// ones too (a header that is not a number is left out).
    pub put_order: Vec<u32>,
    /// The most PUTs in flight at once: from a PUT's head arriving to its answer being ready
    /// (or the server giving up on it: hang, close, reset).
    pub max_puts_in_flight: u32,
    /// When each accepted commit arrived.
    pub commits: Vec<Instant>,
    /// The jobs of its commits, oldest first.
    pub jobs: Vec<u64>,
}

/// A job status request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobPoll {
    pub at: Instant,
    /// Refused with API_LIMIT_EXCEEDED (inside the poll window).
    pub refused: bool,
}

/// Where a job is.
#[derive(Clone, Debug)]
enum JobState {
    /// Runs until `until`, then ends with `then`.
    Running {
        until: Instant,
        then: String,
    },
    Ended {
        status: String,
        at: SystemTime,
    },
}

struct Job {
    id: u64,
    upload_id: String,
    owner: String,
    created: SystemTime,
    started: Instant,
    state: JobState,
    /// The last answered status request.
    answered: Option<Instant>,
    polls: Vec<JobPoll>,
}

impl Job {
    /// The status a request would be told now: SCHEDULED for the first half of the run,
    /// RUNNING for the rest, then the end status.
    fn status(&self, now: Instant) -> &str {
        match &self.state {
            JobState::Running { until, .. } if now.duration_since(self.started) * 2 < *until - self.started => {
                "SCHEDULED"
            }
            JobState::Running { .. } => "RUNNING",
            JobState::Ended { status, .. } => status,
        }
    }
}

/// What a test can see of a job.
#[derive(Clone, Debug)]
pub struct JobView {
    pub id: u64,
    pub upload_id: String,
    /// What a status request would be told now.
    pub status: String,
    pub created: Instant,
    /// Every status request for it, answered or refused.
    pub polls: Vec<JobPoll>,
}

/// A job's status answer.
pub(crate) struct JobAnswer {
    pub id: u64,
    pub status: String,
    pub owner: String,
    pub created: SystemTime,
    /// When it started running (None while scheduled).
    pub run_start: Option<SystemTime>,
    pub run_end: Option<SystemTime>,
}

/// A file a successful commit put on staging.
#[derive(Clone, Debug)]
pub struct StagedFile {
    pub path: String,
    pub size: u64,
    pub upload_id: String,
    pub job_id: u64,
    contents: Vec<(u64, Content)>,
}

impl StagedFile {
    /// The file's bytes; None when a part's bytes are not known (a synthetic or damaged part)
    /// or a source file cannot be read.
    pub fn bytes(&self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(self.size as usize);
        self.each_piece(|piece| out.extend_from_slice(piece)).ok()?;
        Some(out)
    }

    /// MD5 of the file's bytes, 32 lowercase hex digits, computed when asked; None as for
    /// `bytes`.
    pub fn md5(&self) -> Option<String> {
        let mut md5 = Md5::new();
        self.each_piece(|piece| md5.update(piece)).ok()?;
        Some(hex(&md5.finalize()))
    }

    fn each_piece(&self, mut f: impl FnMut(&[u8])) -> io::Result<()> {
        for (len, content) in &self.contents {
            match content {
                Content::Bytes(bytes) => f(bytes),
                Content::File { path, offset } => {
                    let mut file = std::fs::File::open(&**path)?;
                    file.seek(SeekFrom::Start(*offset))?;
                    let mut buf = vec![0; *len as usize];
                    file.read_exact(&mut buf)?;
                    f(&buf);
                }
                Content::Unknown => return Err(io::ErrorKind::NotFound.into()),
            }
        }
        Ok(())
    }
}

/// The limits Vault applies, from the configuration.
struct Rules {
    min_part_size: u64,
    max_part_size: u64,
    max_sessions: usize,
    max_file_size: u64,
    job_delay: Duration,
    job_poll_window: Duration,
    ids: SessionIds,
}

/// The first job ID; each commit's job takes the next.
const FIRST_JOB: u64 = 100_001;

pub(crate) struct State {
    rules: Rules,
    sessions: Vec<Session>,
    by_id: HashMap<String, usize>,
    jobs: Vec<Job>,
    staged: HashMap<String, StagedFile>,
    /// Faults on creates and session lists, and the count of each.
    vault_faults: Vec<FaultOn>,
    vault_counts: HashMap<Endpoint, u32>,
    /// Faults every created session gets.
    new_faults: Vec<FaultOn>,
    /// Makes created IDs differ between runs.
    seed: String,
    created: u32,
}

impl State {
    /// The sessions `config.uploads` describe; of two with one ID, the first is served.
    pub fn new(config: &Config) -> State {
        let (vault_faults, new_faults) =
            config.faults.iter().cloned().partition(|f| matches!(f.endpoint, Endpoint::Create | Endpoint::Sessions));
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let mut state = State {
            rules: Rules {
                min_part_size: config.min_part_size,
                max_part_size: config.max_part_size,
                max_sessions: config.max_sessions,
                max_file_size: config.max_file_size,
                job_delay: config.job_delay,
                job_poll_window: config.job_poll_window,
                ids: config.session_ids,
            },
            sessions: Vec::new(),
            by_id: HashMap::new(),
            jobs: Vec::new(),
            staged: HashMap::new(),
            vault_faults,
            vault_counts: HashMap::new(),
            new_faults,
            seed: format!("vault-sim-{nanos}-{}", std::process::id()),
            created: 0,
        };
        for upload in &config.uploads {
            if !state.by_id.contains_key(&upload.id) {
                state.add(Session::from_upload(upload));
            }
        }
        state
    }

    fn add(&mut self, session: Session) -> &Session {
        let at = self.sessions.len();
        self.by_id.insert(session.id.clone(), at);
        self.sessions.push(session);
        &self.sessions[at]
    }

    /// Any session with this ID, gone or not.
    pub fn get(&self, id: &str) -> Option<&Session> {
        self.by_id.get(id).map(|&i| &self.sessions[i])
    }

    fn get_mut(&mut self, id: &str) -> Option<&mut Session> {
        self.by_id.get(id).map(|&i| &mut self.sessions[i])
    }

    /// An active session with this ID, as the API sees them.
    pub fn active(&self, id: &str) -> Result<&Session, Refusal> {
        self.get(id).filter(|s| s.state.is_active()).ok_or_else(Refusal::no_session)
    }

    fn active_mut(&mut self, id: &str) -> Result<&mut Session, Refusal> {
        self.get_mut(id).filter(|s| s.state.is_active()).ok_or_else(Refusal::no_session)
    }

    /// Active sessions, oldest first.
    pub fn active_sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions.iter().filter(|s| s.state.is_active())
    }

    /// Counts a request and returns the action of the fault that hits it: `upload` names the
    /// session for its endpoints (None for creates and session lists).
    pub fn count(&mut self, upload: Option<&str>, endpoint: Endpoint) -> Option<Action> {
        match upload {
            None => count(&mut self.vault_counts, &self.vault_faults, endpoint),
            Some(id) => self.get_mut(id)?.count(endpoint),
        }
    }

    /// The session whose commit made job `job_id`.
    pub fn job_session(&self, job_id: u64) -> Option<&str> {
        self.job(job_id).map(|j| j.upload_id.as_str())
    }

    fn job(&self, job_id: u64) -> Option<&Job> {
        let i = usize::try_from(job_id.checked_sub(FIRST_JOB)?).ok()?;
        self.jobs.get(i)
    }

    /// Ends every job whose time has come, with what its end means for its session.
    pub fn settle(&mut self, now: Instant) {
        for job in &mut self.jobs {
            let JobState::Running { until, then } = &job.state else { continue };
            if *until > now {
                continue;
            }
            let (until, status) = (*until, then.clone());
            job.state = JobState::Ended { status: status.clone(), at: job.created + (until - job.started) };
            let Some(&i) = self.by_id.get(&job.upload_id) else { continue };
            let session = &mut self.sessions[i];
            if status != "SUCCESS" {
                session.state = SessionState::Open;
                continue;
            }
            session.state = SessionState::Committed { job_id: job.id };
            let contents = session.parts.iter().map(|s| (s.part.size, s.content.clone())).collect();
            let file = StagedFile {
                path: session.path.clone(),
                size: session.uploaded(),
                upload_id: session.id.clone(),
                job_id: job.id,
                contents,
            };
            self.staged.insert(file.path.clone(), file);
        }
    }

    /// A new session for `owner` after Vault's checks of the declared size and the number of
    /// active sessions (the form's fields are checked by the caller).
    pub fn create(&mut self, owner: &str, path: &str, size: u64, overwrite: bool) -> Result<&Session, Refusal> {
        if size > self.rules.max_file_size {
            return Err(Refusal::new(
                "INVALID_DATA",
                format!("Invalid value for [size]: a file may have at most {} bytes.", self.rules.max_file_size),
            ));
        }
        if self.active_sessions().count() >= self.rules.max_sessions {
            return Err(Refusal::new(
                "OPERATION_NOT_ALLOWED",
                format!("The Vault already has {} active upload sessions.", self.rules.max_sessions),
            ));
        }
        let id = loop {
            self.created += 1;
            let id = new_id(&self.seed, self.created, self.rules.ids);
            if !self.by_id.contains_key(&id) {
                break id;
            }
        };
        let session = Session::new(id, owner.into(), path.into(), size, overwrite, self.new_faults.clone());
        Ok(self.add(session))
    }

    /// Notes a PUT's head arriving: its part number, and one more PUT in flight.
    pub fn put_arrived(&mut self, id: &str, number: Option<u32>) {
        if let Some(session) = self.get_mut(id) {
            session.put_order.extend(number);
            session.puts_in_flight += 1;
            session.max_puts_in_flight = session.max_puts_in_flight.max(session.puts_in_flight);
        }
    }

    /// Notes a PUT no longer in flight.
    pub fn put_ended(&mut self, id: &str) {
        if let Some(session) = self.get_mut(id) {
            session.puts_in_flight = session.puts_in_flight.saturating_sub(1);
        }
    }

    pub fn put(&mut self, id: &str, number: u32, bytes: Vec<u8>, md5: [u8; 16]) -> Result<SimPart, Refusal> {
        let rules = &self.rules;
        let session = self.by_id.get(id).map(|&i| &mut self.sessions[i]).ok_or_else(Refusal::no_session)?;
        session.put(number, bytes, md5, rules)
    }

    /// Commits session `id`: a job that ends after the configured delay, with `end` when set,
    /// else with what it finds.
    pub fn commit(&mut self, id: &str, now: Instant, end: Option<&str>) -> Result<u64, Refusal> {
        let i = *self.by_id.get(id).ok_or_else(Refusal::no_session)?;
        let session = &self.sessions[i];
        session.is_open()?;
        let then = end.unwrap_or_else(|| session.job_end(&self.staged)).to_owned();
        let job_id = FIRST_JOB + self.jobs.len() as u64;
        self.jobs.push(Job {
            id: job_id,
            upload_id: id.into(),
            owner: session.owner.clone(),
            created: SystemTime::now(),
            started: now,
            state: JobState::Running { until: now + self.rules.job_delay, then },
            answered: None,
            polls: Vec::new(),
        });
        let session = &mut self.sessions[i];
        session.state = SessionState::Committing { job_id };
        session.commits.push(now);
        session.jobs.push(job_id);
        Ok(job_id)
    }

    /// Aborts session `id`: its parts purged, the session gone.
    pub fn abort(&mut self, id: &str) -> Result<(), Refusal> {
        let session = self.active_mut(id)?;
        session.is_open()?;
        session.parts.clear();
        session.state = SessionState::Aborted;
        Ok(())
    }

    /// The job's status for a request at `now`, or API_LIMIT_EXCEEDED inside the poll window.
    pub fn poll(&mut self, job_id: u64, now: Instant, reported: Option<&str>) -> Result<JobAnswer, Refusal> {
        let window = self.rules.job_poll_window;
        let i = self
            .job(job_id)
            .map(|j| (j.id - FIRST_JOB) as usize)
            .ok_or_else(|| Refusal::new("INVALID_DATA", format!("Invalid value for [job_id]: no job {job_id}.")))?;
        let job = &mut self.jobs[i];
        if let Some(last) = job.answered.filter(|last| now.duration_since(*last) < window) {
            job.polls.push(JobPoll { at: now, refused: true });
            let wait = window - now.duration_since(last);
            return Err(Refusal::new(
                "API_LIMIT_EXCEEDED",
                format!(
                    "Job status may be requested once every {} ms: wait {} ms before asking again.",
                    window.as_millis(),
                    wait.as_millis().max(1)
                ),
            ));
        }
        job.polls.push(JobPoll { at: now, refused: false });
        job.answered = Some(now);
        let status = reported.unwrap_or_else(|| job.status(now)).to_owned();
        let started = job.status(now) != "SCHEDULED";
        let run_end = match &job.state {
            JobState::Ended { at, .. } => Some(*at),
            JobState::Running { .. } => None,
        };
        Ok(JobAnswer {
            id: job.id,
            status,
            owner: job.owner.clone(),
            created: job.created,
            run_start: started.then_some(job.created),
            run_end,
        })
    }

    pub fn sessions_view(&self) -> Vec<SessionView> {
        self.sessions.iter().map(Session::view).collect()
    }

    pub fn session_view(&self, id: &str) -> Option<SessionView> {
        self.get(id).map(Session::view)
    }

    pub fn job_view(&self, job_id: u64, now: Instant) -> Option<JobView> {
        self.job(job_id).map(|j| JobView {
            id: j.id,
            upload_id: j.upload_id.clone(),
            status: j.status(now).to_owned(),
            created: j.started,
            polls: j.polls.clone(),
        })
    }

    pub fn staged(&self, path: &str) -> Option<StagedFile> {
        self.staged.get(path).cloned()
    }
}

/// The `n`th ID a create makes, in `style`.
fn new_id(seed: &str, n: u32, style: SessionIds) -> String {
    let hex = md5_for(seed, n);
    match style {
        SessionIds::Hex => hex,
        SessionIds::Dotted => {
            use base64::Engine;
            let more = md5_for(&hex, n);
            let bytes: Vec<u8> = (0..hex.len() + more.len())
                .step_by(2)
                .map(|i| {
                    let s = if i < hex.len() { &hex[i..i + 2] } else { &more[i - hex.len()..i - hex.len() + 2] };
                    u8::from_str_radix(s, 16).unwrap_or(0)
                })
                .collect();
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            format!("{}.{}.{}", &text[..12], &text[12..28], &text[28..])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::{Fault, When};

    fn md5(bytes: &[u8]) -> [u8; 16] {
        Md5::digest(bytes).into()
    }

    /// A state with 4-byte minimum parts, 8-byte maximum, at most 2 sessions, no job delay
    /// and a 1 s poll window.
    fn small() -> State {
        State::new(&Config {
            min_part_size: 4,
            max_part_size: 8,
            max_sessions: 2,
            max_file_size: 100,
            job_poll_window: Duration::from_secs(1),
            ..Config::default()
        })
    }

    fn put(state: &mut State, id: &str, number: u32, bytes: &[u8]) -> Result<SimPart, Refusal> {
        state.put(id, number, bytes.to_vec(), md5(bytes))
    }

    fn refusal<T>(r: Result<T, Refusal>) -> Refusal {
        match r {
            Ok(_) => panic!("accepted"),
            Err(refusal) => refusal,
        }
    }

    fn kind<T>(r: Result<T, Refusal>) -> &'static str {
        refusal(r).kind
    }

    #[test]
    fn parts_come_in_order_within_the_sizes() {
        let mut s = small();
        let id = s.create("alice", "/u/alice/f", 13, false).unwrap().id.clone();
        assert_eq!(id.len(), 32);
        assert_eq!(kind(put(&mut s, &id, 2, b"abcd")), "OPERATION_NOT_ALLOWED", "part 2 before part 1");
        assert_eq!(kind(put(&mut s, &id, 1, b"abc")), "INVALID_DATA", "under the minimum, not the last");
        assert_eq!(kind(put(&mut s, &id, 1, b"abcdefghi")), "INVALID_DATA", "over the maximum");
        assert_eq!(kind(put(&mut s, &id, 1, b"")), "INVALID_DATA", "empty");
        let p1 = put(&mut s, &id, 1, b"abcde").unwrap();
        assert_eq!(p1, SimPart { number: 1, size: 5, md5: Some("ab56b4d92b40713acc5af89985d4b786".into()) });
        put(&mut s, &id, 2, b"fghij").unwrap();
        assert_eq!(kind(put(&mut s, &id, 3, b"klmn")), "OPERATION_NOT_ALLOWED", "14 bytes of 13");
        let refused = refusal(put(&mut s, &id, 3, b"klmn"));
        assert_eq!(refused.message, "Unable to upload additional file parts/bytes.");
        put(&mut s, &id, 3, b"klm").unwrap();
        let again = put(&mut s, &id, 1, b"ABCDE").unwrap();
        assert_eq!(again.md5, Some(hex(&md5(b"ABCDE"))), "a part sent again overwrites");
        let numbers: Vec<(u32, u64)> = s.get(&id).unwrap().parts().map(|p| (p.number, p.size)).collect();
        assert_eq!(numbers, [(1, 5), (2, 5), (3, 3)]);
        assert_eq!(s.get(&id).unwrap().uploaded(), 13);
    }

    #[test]
    fn creates_are_capped_in_size_and_number() {
        let mut s = small();
        assert_eq!(kind(s.create("a", "/f", 101, false)), "INVALID_DATA");
        let first = s.create("a", "/f1", 100, false).unwrap().id.clone();
        let second = s.create("a", "/f2", 100, false).unwrap().id.clone();
        assert_ne!(first, second);
        let third = s.create("a", "/f3", 100, false);
        assert_eq!(
            refusal(third),
            Refusal::new("OPERATION_NOT_ALLOWED", "The Vault already has 2 active upload sessions.")
        );
        s.abort(&first).unwrap();
        assert_eq!(s.get(&first).unwrap().state, SessionState::Aborted);
        assert_eq!(kind(s.active(&first)), "INVALID_DATA", "an aborted session is gone");
        assert_eq!(kind(s.abort(&first)), "INVALID_DATA");
        s.create("a", "/f3", 100, false).unwrap();
    }

    #[test]
    fn a_commit_job_checks_the_parts_and_stages_the_file() {
        let mut s = small();
        let id = s.create("alice", "/u/alice/f", 9, false).unwrap().id.clone();
        put(&mut s, &id, 1, b"abcde").unwrap();
        let now = Instant::now();
        let job = s.commit(&id, now, None).unwrap();
        assert_eq!(job, FIRST_JOB);
        assert_eq!(kind(put(&mut s, &id, 2, b"fghi")), "OPERATION_NOT_ALLOWED", "committing");
        s.settle(now);
        assert_eq!(s.poll(job, now, None).unwrap().status, "ERRORS_ENCOUNTERED", "5 bytes of 9");
        assert_eq!(s.get(&id).unwrap().state, SessionState::Open, "a failed job leaves the session open");
        let limited = refusal(s.poll(job, now + Duration::from_millis(400), None));
        assert_eq!(limited.kind, "API_LIMIT_EXCEEDED");
        assert!(limited.message.contains("wait 600 ms"), "{}", limited.message);
        assert!(s.poll(job, now + Duration::from_secs(1), None).is_ok(), "the window has passed");
        put(&mut s, &id, 2, b"fghi").unwrap();
        let job = s.commit(&id, now, None).unwrap();
        s.settle(now);
        assert_eq!(s.poll(job, now, None).unwrap().status, "SUCCESS");
        assert_eq!(s.get(&id).unwrap().state, SessionState::Committed { job_id: job });
        let file = s.staged("/u/alice/f").unwrap();
        assert_eq!((file.size, file.bytes().unwrap()), (9, b"abcdefghi".to_vec()));
        assert_eq!(file.md5().unwrap(), hex(&md5(b"abcdefghi")));
        let polls = s.job_view(FIRST_JOB, now).unwrap().polls;
        assert_eq!(polls.iter().map(|p| p.refused).collect::<Vec<_>>(), [false, true, false]);
        let again = s.create("alice", "/u/alice/f", 4, false).unwrap().id.clone();
        put(&mut s, &again, 1, b"wxyz").unwrap();
        let job = s.commit(&again, now, None).unwrap();
        s.settle(now);
        assert_eq!(s.poll(job, now, None).unwrap().status, "ERRORS_ENCOUNTERED", "the path is taken");
    }

    #[test]
    fn a_job_runs_for_its_delay_and_can_be_made_to_end_otherwise() {
        let mut s = State::new(&Config { job_delay: Duration::from_secs(10), ..Config::default() });
        let id = s.create("a", "/f", 1, false).unwrap().id.clone();
        put(&mut s, &id, 1, b"x").unwrap();
        let t0 = Instant::now();
        let job = s.commit(&id, t0, Some("CANCELLED")).unwrap();
        let at = |secs| t0 + Duration::from_secs(secs);
        s.settle(at(4));
        assert_eq!(s.job_view(job, at(4)).unwrap().status, "SCHEDULED");
        assert_eq!(s.job_view(job, at(6)).unwrap().status, "RUNNING");
        assert_eq!(s.get(&id).unwrap().state, SessionState::Committing { job_id: job });
        assert_eq!(kind(s.abort(&id)), "OPERATION_NOT_ALLOWED");
        s.settle(at(10));
        assert_eq!(s.job_view(job, at(10)).unwrap().status, "CANCELLED");
        assert!(s.staged("/f").is_none());
        assert_eq!(s.poll(job, at(10), Some("RUNNING")).unwrap().status, "RUNNING", "a poll may report another");
        assert_eq!(kind(s.poll(job + 1, at(10), None)), "INVALID_DATA");
    }

    #[test]
    fn a_session_from_a_file_assembles_with_the_parts_sent_after() {
        let path = std::env::temp_dir().join(format!("vault-sim-session-{}", std::process::id()));
        std::fs::write(&path, b"0123456789abc").unwrap();
        let upload = Upload::from_file("f", "alice", path.to_str().unwrap(), 5, 1).unwrap();
        let mut s = State::new(&Config { min_part_size: 5, uploads: vec![upload], ..Config::default() });
        assert_eq!(s.get("f").unwrap().size, 13, "the file's size is declared");
        put(&mut s, "f", 2, b"56789").unwrap();
        put(&mut s, "f", 3, b"abc").unwrap();
        let job = s.commit("f", Instant::now(), None).unwrap();
        s.settle(Instant::now());
        let file = s.staged("/u/alice/f").unwrap();
        assert_eq!((file.job_id, file.bytes().unwrap()), (job, b"0123456789abc".to_vec()));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn damaged_or_synthetic_parts_have_no_bytes() {
        let mut damaged = Upload::new("d", "o", 2);
        damaged.part_size = 1;
        let mut s = State::new(&Config { min_part_size: 1, uploads: vec![damaged], ..Config::default() });
        let job = s.commit("d", Instant::now(), None).unwrap();
        s.settle(Instant::now());
        assert_eq!(s.poll(job, Instant::now(), None).unwrap().status, "SUCCESS");
        let file = s.staged("/u/o/d").unwrap();
        assert_eq!((file.size, file.md5()), (2, None));
    }

    #[test]
    fn faults_are_counted_per_session_and_kind() {
        let a = Upload::new("a", "o", 2).fault(When::Request(2), Action::Close).fault_on(
            Endpoint::Put,
            When::Request(1),
            Action::Hang,
        );
        let config = Config {
            uploads: vec![a, Upload::new("b", "o", 1), Upload::new("a", "other", 9)],
            faults: vec![
                FaultOn { endpoint: Endpoint::Create, fault: Fault { when: When::Request(2), action: Action::Close } },
                FaultOn { endpoint: Endpoint::Put, fault: Fault { when: When::Always, action: Action::EchoMd5 } },
            ],
            ..Config::default()
        };
        let mut s = State::new(&config);
        assert_eq!(s.get("a").unwrap().parts().len(), 2, "the first session of an ID is served");
        assert!(s.count(Some("a"), Endpoint::Parts).is_none());
        assert!(s.count(Some("b"), Endpoint::Parts).is_none());
        assert!(matches!(s.count(Some("a"), Endpoint::Put), Some(Action::Hang)), "puts count apart from listings");
        assert!(matches!(s.count(Some("a"), Endpoint::Parts), Some(Action::Close)));
        assert!(s.count(Some("a"), Endpoint::Parts).is_none());
        assert!(s.count(Some("c"), Endpoint::Parts).is_none());
        assert!(s.count(None, Endpoint::Create).is_none());
        assert!(matches!(s.count(None, Endpoint::Create), Some(Action::Close)));
        assert!(s.count(Some("b"), Endpoint::Put).is_none(), "new-session faults are not a made session's");
        let made = s.create("o", "/x", 1, false).unwrap().id.clone();
        assert!(matches!(s.count(Some(&made), Endpoint::Put), Some(Action::EchoMd5)));
    }

    #[test]
    fn puts_in_flight_are_counted() {
        let mut s = small();
        let id = s.create("a", "/f", 10, false).unwrap().id.clone();
        s.put_arrived(&id, Some(1));
        s.put_ended(&id);
        s.put_arrived(&id, Some(2));
        s.put_arrived(&id, None);
        s.put_ended(&id);
        s.put_ended(&id);
        let view = s.session_view(&id).unwrap();
        assert_eq!((view.put_order, view.max_puts_in_flight), (vec![1, 2], 2));
    }

    #[test]
    fn dotted_ids_are_long_and_dotted() {
        let id = new_id("seed", 1, SessionIds::Dotted);
        assert_eq!(id.split('.').count(), 3, "{id}");
        assert!(id.len() > 40 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)), "{id}");
        assert_ne!(id, new_id("seed", 2, SessionIds::Dotted));
    }
}
