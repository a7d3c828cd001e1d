//! The upload's Rust core against vault-sim over loopback HTTP: new uploads and resumes end to
//! end (the file vault-sim assembles has the local file's MD5), conflicts with nothing sent,
//! retried and refused PUTs, the commit modes and the job, each asserted on the server side.

use md5::{Digest, Md5};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vault_parts::upload::{CommitMode, PartAction, PartEvent, Totals, Upload};
use vault_parts::verify::Status;
use vault_parts::{Error, ErrorKind, Listing};
use vault_sim::file_upload::PartFault;
use vault_sim::{Action, Config, Endpoint, Recorded, SessionState, Sim, When};

const SID: &str = "SID-upload-core-7c41e";
const MIB: u64 = 1 << 20;
/// Vault's smallest part: the part size of these tests.
const P: u64 = 5 * MIB;
/// Three parts: 5 MiB, 5 MiB, 2 MiB + 17 bytes.
const SIZE: u64 = 12 * MIB + 17;
const STAGING: &str = "/u/alice/big.bin";

/// A file of pseudo-random bytes, removed on drop.
struct TempFile {
    path: String,
    bytes: Vec<u8>,
}

impl TempFile {
    fn new(name: &str, size: u64) -> TempFile {
        let path = std::env::temp_dir().join(format!("vp-upload-core-{}-{name}", std::process::id()));
        let bytes = vault_sim::file_upload::pseudo_random_bytes(size, size);
        std::fs::write(&path, &bytes).unwrap();
        TempFile { path: path.to_string_lossy().into_owned(), bytes }
    }

    fn part(&self, n: u32) -> &[u8] {
        let from = (u64::from(n) - 1) * P;
        &self.bytes[from as usize..(from + P).min(self.bytes.len() as u64) as usize]
    }

    fn md5(&self) -> String {
        hex(&self.bytes)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Fast polls and retries, so the tests stay short.
fn config() -> Config {
    Config { job_poll_window: Duration::from_millis(100), ..Config::default().user(SID, "alice", false) }
}

fn quick(listing: &mut Listing) {
    listing.configure(|s| s.set_backoff_ms(10, 2000)).unwrap();
}

/// A new upload of `file` to `sim`, polling every 100 ms, with a log kept in `log`.
fn new_upload(sim: &Sim, file: &TempFile, part_size: u64, log: &Arc<Mutex<Vec<String>>>) -> Upload {
    let mut listing = Listing::for_new_session(&sim.url(), SID, STAGING, false, None);
    quick(&mut listing);
    let lines = Arc::clone(log);
    listing.set_log(Some(Box::new(move |_, line| lines.lock().unwrap().push(line.to_owned())))).unwrap();
    let mut u = Upload::new(listing, &file.path, part_size);
    u.set_poll_interval(Duration::from_millis(100)).unwrap();
    u
}

fn resumed(sim: &Sim, id: &str, file: &TempFile, part_size: u64) -> Upload {
    let mut listing = Listing::new(&sim.url(), SID, id);
    quick(&mut listing);
    let mut u = Upload::new(listing, &file.path, part_size);
    u.set_poll_interval(Duration::from_millis(100)).unwrap();
    u
}

fn run(u: &mut Upload) -> (Vec<PartEvent>, Result<(), Error>) {
    let mut events = Vec::new();
    loop {
        match u.next_event() {
            Ok(Some(e)) => events.push(e),
            Ok(None) => return (events, Ok(())),
            Err(e) => return (events, Err(e)),
        }
    }
}

fn event(file: &TempFile, n: u32, verdict: Status, action: PartAction, attempts: u32) -> PartEvent {
    let part = file.part(n);
    let mut md5 = [0u8; 32];
    md5.copy_from_slice(hex(part).as_bytes());
    PartEvent {
        part_number: n,
        verdict,
        action,
        offset: (u64::from(n) - 1) * P,
        size: part.len() as u64,
        md5,
        attempts,
    }
}

fn sent(file: &TempFile, n: u32, verdict: Status, attempts: u32) -> PartEvent {
    event(file, n, verdict, PartAction::Sent, attempts)
}

fn puts(sim: &Sim) -> Vec<Recorded> {
    sim.requests().into_iter().filter(|r| r.method == "PUT").collect()
}

fn count(sim: &Sim, method: &str, path_has: &str) -> usize {
    sim.requests().iter().filter(|r| r.method == method && r.path.contains(path_has)).count()
}

/// The session a new upload made: the only one.
fn only_session(sim: &Sim) -> vault_sim::SessionView {
    let sessions = sim.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    sessions.into_iter().next().unwrap()
}

#[test]
fn a_new_upload_puts_the_file_on_staging_with_its_md5() {
    let sim = Sim::start(Config { job_delay: Duration::from_millis(250), ..config() }).unwrap();
    let file = TempFile::new("new", SIZE);
    let log = Arc::default();
    let mut u = new_upload(&sim, &file, P, &log);
    assert_eq!(u.upload_id(), None);
    u.start().unwrap();
    let id = only_session(&sim).id;
    assert_eq!(u.upload_id(), Some(id.as_str()), "the ID is known before any part is sent");
    assert_eq!(puts(&sim).len(), 0);
    let (events, result) = run(&mut u);
    result.unwrap();
    assert_eq!(events, (1..=3).map(|n| sent(&file, n, Status::Missing, 1)).collect::<Vec<_>>());

    let staged = sim.staged(STAGING).expect("the file is on staging");
    assert_eq!((staged.size, staged.upload_id.as_str()), (SIZE, id.as_str()));
    assert_eq!(staged.md5().unwrap(), file.md5());
    let session = only_session(&sim);
    assert_eq!(session.put_order, [1, 2, 3]);
    assert_eq!(session.max_puts_in_flight, 1, "one PUT at a time");
    assert_eq!(session.commits.len(), 1);
    let t = u.totals();
    assert_eq!(
        t,
        Totals { parts: 3, kept: 0, sent: 3, bytes_sent: SIZE, bytes_hashed: SIZE, job_id: t.job_id, committed: true }
    );
    assert_eq!(session.jobs, [t.job_id]);

    // What went on the wire: Vault's headers, the bytes of each part, one connection.
    for (r, n) in puts(&sim).iter().zip(1u32..) {
        assert_eq!(r.path, format!("/api/v25.3/services/file_staging/upload/{id}"));
        assert_eq!(r.header("Content-Type"), Some("application/octet-stream"));
        assert_eq!(r.header("X-VaultAPI-FilePartNumber"), Some(n.to_string().as_str()));
        assert_eq!(r.header("Content-Length"), Some(file.part(n).len().to_string().as_str()));
        assert_eq!(r.header("Expect"), None, "no 100-continue round trip");
        assert_eq!((r.body_len, r.body_md5.as_str()), (file.part(n).len() as u64, hex(file.part(n)).as_str()));
    }
    assert_eq!(sim.connections(), 1, "the connection is kept");
    let stats = u.stats();
    assert_eq!((stats.requests, stats.retries, stats.connections), (sim.requests().len() as u64, 0, 1));
    let create = &sim.requests()[0];
    assert_eq!(
        (create.method.as_str(), create.body.as_deref()),
        ("POST", Some(format!("path=%2Fu%2Falice%2Fbig.bin&size={SIZE}&overwrite=false").as_bytes()))
    );

    // The job ran 250 ms: polled more than once, never twice within the interval.
    let job = sim.job(t.job_id).unwrap();
    assert!(job.polls.len() >= 2, "{:?}", job.polls);
    assert!(job.polls.iter().all(|p| !p.refused), "no poll inside the window");
    for pair in job.polls.windows(2) {
        assert!(pair[1].at - pair[0].at >= Duration::from_millis(100), "{:?}", job.polls);
    }
    let log = log.lock().unwrap();
    assert!(log.iter().any(|l| l.contains(&format!("upload session {id}"))), "{log:?}");
    assert!(log.iter().all(|l| !l.contains(SID)), "the session ID is never logged");
}

#[test]
fn a_resume_keeps_intact_parts_resends_a_corrupted_one_and_sends_the_rest() {
    let file = TempFile::new("resume", 4 * P + 3);
    let mut upload = vault_sim::Upload::from_file("res1", "alice", &file.path, P, 3).unwrap();
    upload.part_fault(PartFault::WrongMd5(2));
    let sim = Sim::start(config().upload(upload.staging_path(STAGING))).unwrap();
    let mut u = resumed(&sim, "res1", &file, 0);
    let (events, result) = run(&mut u);
    result.unwrap();
    assert_eq!(
        events,
        [
            event(&file, 1, Status::Ok, PartAction::Kept, 0),
            sent(&file, 2, Status::Md5Mismatch, 1),
            event(&file, 3, Status::Ok, PartAction::Kept, 0),
            sent(&file, 4, Status::Missing, 1),
            sent(&file, 5, Status::Missing, 1),
        ]
    );
    let session = sim.session("res1").unwrap();
    assert_eq!(session.put_order, [2, 4, 5]);
    assert_eq!(sim.staged(STAGING).unwrap().md5().unwrap(), file.md5());
    let t = u.totals();
    assert_eq!((t.parts, t.kept, t.sent, t.bytes_sent), (5, 2, 3, 2 * P + 3));
    assert_eq!(u.upload_id(), Some("res1"));
}

#[test]
fn a_session_with_only_part_one_or_no_parts_is_completed() {
    for uploaded in [1, 0] {
        let file = TempFile::new(&format!("first-{uploaded}"), SIZE);
        let upload = vault_sim::Upload::from_file("few", "alice", &file.path, P, uploaded).unwrap();
        let sim = Sim::start(config().upload(upload.staging_path(STAGING))).unwrap();
        let mut u = resumed(&sim, "few", &file, 0);
        let (events, result) = run(&mut u);
        result.unwrap();
        let actions: Vec<(u32, PartAction)> = events.iter().map(|e| (e.part_number, e.action)).collect();
        let staged = sim.staged(STAGING).unwrap();
        assert_eq!(staged.md5().unwrap(), file.md5(), "uploaded {uploaded}");
        if uploaded == 1 {
            // Part 1 alone tells the part size.
            assert_eq!(actions, [(1, PartAction::Kept), (2, PartAction::Sent), (3, PartAction::Sent)]);
        } else {
            // No parts: the library's choice, 8 MiB.
            assert_eq!(actions, [(1, PartAction::Sent), (2, PartAction::Sent)]);
            assert_eq!(events[0].size, 8 * MIB);
        }
    }
}

/// E_CONFLICT, and the session untouched: no PUT, no commit.
fn assert_conflict(sim: &Sim, u: &mut Upload, says: &str) {
    let e = u.next_event().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.message().contains(says), "{e}");
    assert_eq!(count(sim, "PUT", "") + count(sim, "POST", ""), 0, "{:?}", sim.requests());
}

#[test]
fn a_declared_size_other_than_the_file_size_is_a_conflict_with_nothing_sent() {
    let file = TempFile::new("declared", SIZE);
    let upload = vault_sim::Upload::from_file("dec", "alice", &file.path, P, 1).unwrap().declared_size(SIZE + 1);
    let sim = Sim::start(config().upload(upload)).unwrap();
    let mut u = resumed(&sim, "dec", &file, P);
    assert_conflict(&sim, &mut u, &format!("created for {} bytes, the file has {SIZE}", SIZE + 1));
    assert_eq!(count(&sim, "GET", "/parts"), 0, "refused before the listing");
}

#[test]
fn an_extra_part_is_a_conflict_with_nothing_sent() {
    let file = TempFile::new("extra", SIZE);
    // The session was cut from a file one part longer: part 4 lies past this file's end.
    let longer = TempFile::new("extra-longer", SIZE + P);
    let upload = vault_sim::Upload::from_file("ext", "alice", &longer.path, P, 4).unwrap().declared_size(SIZE);
    let sim = Sim::start(config().upload(upload)).unwrap();
    let mut u = resumed(&sim, "ext", &file, P);
    assert_conflict(&sim, &mut u, "Vault lists part 4, past the file's last part 3");
}

#[test]
fn an_echo_wrong_once_is_resent_and_always_is_an_integrity_failure() {
    let file = TempFile::new("echo", SIZE);
    let sim = Sim::start(config().fault_on(Endpoint::Put, When::Request(2), Action::EchoMd5)).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    let (events, result) = run(&mut u);
    result.unwrap();
    assert_eq!(events[1], sent(&file, 2, Status::Missing, 2));
    assert_eq!(only_session(&sim).put_order, [1, 2, 2, 3]);
    let bodies: Vec<String> = puts(&sim).iter().map(|r| r.body_md5.clone()).collect();
    assert_eq!(bodies[1], bodies[2], "the same bytes again");
    assert_eq!(u.totals().bytes_sent, SIZE + P);

    let sim = Sim::start(config().fault_on(Endpoint::Put, When::Always, Action::EchoMd5)).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    let (events, result) = run(&mut u);
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity, "{e}");
    assert!(e.message().contains("(after 3 attempts)"), "{e}");
    assert!(events.is_empty());
    assert_eq!(only_session(&sim).put_order, [1, 1, 1]);
    assert_eq!(count(&sim, "POST", "/upload/"), 0, "no commit");
    assert_eq!(u.totals().bytes_sent, 3 * P, "every attempt counts");
}

#[test]
fn a_put_reset_mid_body_is_retried_with_the_same_bytes() {
    let file = TempFile::new("reset", SIZE);
    let sim = Sim::start(config().fault_on(Endpoint::Put, When::Request(1), Action::ResetMidBody)).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    let (events, result) = run(&mut u);
    result.unwrap();
    assert_eq!(events[0], sent(&file, 1, Status::Missing, 2));
    let first = &puts(&sim)[..2];
    assert!(!first[0].body_complete && first[1].body_complete);
    assert_eq!(first[1].body_md5, hex(file.part(1)));
    assert_eq!(sim.staged(STAGING).unwrap().md5().unwrap(), file.md5());
}

#[test]
fn a_429_with_retry_after_on_a_put_is_waited_out() {
    let file = TempFile::new("429", SIZE);
    let busy = Action::Status { code: 429, body: "slow down".into(), retry_after: Some(1) };
    let sim = Sim::start(config().fault_on(Endpoint::Put, When::Request(2), busy)).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    let (events, result) = run(&mut u);
    result.unwrap();
    assert_eq!(events[1].attempts, 2);
    let p = puts(&sim);
    assert!(p[2].at - p[1].at >= Duration::from_secs(1), "Retry-After honoured: {:?}", p[2].at - p[1].at);
}

#[test]
fn an_auth_failure_on_a_put_is_not_retried_and_nothing_is_committed() {
    let file = TempFile::new("auth", SIZE);
    let refused = Action::VaultError {
        status: "FAILURE".into(),
        kind: "INVALID_SESSION_ID".into(),
        message: format!("Invalid or inactive session ID {SID}"),
    };
    let sim = Sim::start(config().fault_on(Endpoint::Put, When::Request(2), refused)).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    let (events, result) = run(&mut u);
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Auth, "{e}");
    assert!(!e.message().contains(SID), "redacted: {e}");
    assert_eq!(events.len(), 1);
    assert_eq!(only_session(&sim).put_order, [1, 2]);
    assert_eq!(count(&sim, "POST", "/upload/"), 0);
    assert!(u.upload_id().is_some(), "the session can be resumed");
}

#[test]
fn a_job_that_fails_is_a_vault_error_naming_its_status() {
    let file = TempFile::new("job", SIZE);
    let sim =
        Sim::start(config().fault_on(Endpoint::Commit, When::Always, Action::JobStatus("ERRORS_ENCOUNTERED".into())))
            .unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    let e = run(&mut u).1.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Vault);
    assert!(e.message().contains("ended with status \"ERRORS_ENCOUNTERED\""), "{e}");
    assert!(u.totals().committed);
    assert!(sim.staged(STAGING).is_none());
}

#[test]
fn commit_none_sends_no_commit_and_commit_does_not_poll() {
    let file = TempFile::new("modes", SIZE);
    let sim = Sim::start(config()).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    u.set_commit(CommitMode::None).unwrap();
    assert_eq!(run(&mut u).0.len(), 3);
    assert_eq!(count(&sim, "POST", "/upload/"), 0);
    assert_eq!(only_session(&sim).state, SessionState::Open);

    let sim = Sim::start(Config { job_delay: Duration::from_secs(5), ..config() }).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    u.set_commit(CommitMode::Commit).unwrap();
    let started = Instant::now();
    run(&mut u).1.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "no wait for the job");
    assert_eq!(count(&sim, "GET", "/jobs/"), 0);
    assert_eq!(only_session(&sim).jobs, [u.totals().job_id]);
}

#[test]
fn an_interrupt_during_a_hung_put_ends_the_upload() {
    let file = TempFile::new("hang", SIZE);
    let sim = Sim::start(config().fault_on(Endpoint::Put, When::Request(2), Action::Hang)).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    let interrupt = u.interrupter();
    assert_eq!(u.next_event().unwrap().unwrap().part_number, 1);
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        let raised = Instant::now();
        interrupt.interrupt();
        raised
    });
    let e = u.next_event().unwrap_err();
    let latency = raiser.join().unwrap().elapsed();
    assert_eq!(e.kind(), ErrorKind::Cancelled, "{e}");
    // 100 ms is the promise (13-17 ms measured here under load); the bound leaves a loaded
    // machine slack and still fails a wait for the hang's 60 s timeout.
    assert!(latency < Duration::from_secs(1), "returned {latency:?} after the interrupt");
    assert_eq!(count(&sim, "POST", "/upload/"), 0);
}

#[test]
fn the_file_truncated_mid_upload_is_an_io_error_and_no_commit_follows() {
    let file = TempFile::new("truncate", SIZE);
    let sim = Sim::start(config()).unwrap();
    let mut u = new_upload(&sim, &file, P, &Arc::default());
    assert_eq!(u.next_event().unwrap().unwrap().part_number, 1);
    std::fs::OpenOptions::new().write(true).open(&file.path).unwrap().set_len(P + 1).unwrap();
    let e = run(&mut u).1.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("changed while uploading"), "{e}");
    assert_eq!(count(&sim, "POST", "/upload/"), 0);
}
