//! The state machine's rules, driven by the fake Vault (fake.rs) over real files.

use super::fake::{md5_hex, Answer, Call, Fake};
use super::machine::Machine;
use super::{CommitMode, PartAction, PartEvent, Totals};
use crate::cancel::Deadline;
use crate::error::{Error, ErrorKind};
use crate::page::Part;
use crate::vault_api::JobStatus;
use crate::verify::Status;
use std::time::{Duration, Instant};

const MIB: u64 = 1 << 20;
/// Vault's smallest part size: the explicit size of most tests.
const P: u64 = 5 * MIB;
/// Three parts of P: 5 MiB, 5 MiB and 2 MiB + 17 bytes.
const SIZE: u64 = 12 * MIB + 17;

/// A file of pseudo-random bytes, removed on drop.
struct TempFile {
    path: std::path::PathBuf,
    bytes: Vec<u8>,
}

impl TempFile {
    fn new(name: &str, size: u64) -> TempFile {
        let path = std::env::temp_dir().join(format!("vp-upload-{}-{name}", std::process::id()));
        let bytes = vault_sim::file_upload::pseudo_random_bytes(size, 11);
        std::fs::write(&path, &bytes).unwrap();
        TempFile { path, bytes }
    }

    fn part(&self, n: u32) -> &[u8] {
        let from = (u64::from(n) - 1) * P;
        &self.bytes[from as usize..(from + P).min(self.bytes.len() as u64) as usize]
    }

    /// Part `n` as Vault lists it after an intact upload.
    fn listed(&self, n: u32) -> Part {
        let part = self.part(n);
        Part { part_number: n, size: part.len() as u64, md5: Some(md5_hex(part)) }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn machine(fake: Fake, file: &TempFile, part_size: u64) -> Machine<Fake> {
    Machine::new(fake, &file.path, part_size)
}

/// Every event, then the final result.
fn run(m: &mut Machine<Fake>) -> (Vec<PartEvent>, Result<(), Error>) {
    let mut events = Vec::new();
    loop {
        match m.next_event() {
            Ok(Some(e)) => events.push(e),
            Ok(None) => return (events, Ok(())),
            Err(e) => return (events, Err(e)),
        }
    }
}

fn sent(file: &TempFile, n: u32, verdict: Status, attempts: u32) -> PartEvent {
    let part = file.part(n);
    PartEvent {
        part_number: n,
        verdict,
        action: PartAction::Sent,
        offset: (u64::from(n) - 1) * P,
        size: part.len() as u64,
        md5: md5_hex(part),
        attempts,
    }
}

fn kept(file: &TempFile, n: u32) -> PartEvent {
    PartEvent { verdict: Status::Ok, action: PartAction::Kept, attempts: 0, ..sent(file, n, Status::Ok, 0) }
}

fn pending(status: &str) -> JobStatus {
    JobStatus::Pending(status.to_owned())
}

fn puts_of(fake: &Fake) -> Vec<(u32, u32)> {
    fake.puts()
}

#[test]
fn a_new_upload_creates_sends_every_part_in_order_commits_and_waits() {
    let file = TempFile::new("new", SIZE);
    let mut m = machine(Fake::new_session(), &file, P);
    assert_eq!(m.upload_id(), None, "no ID before the start");
    let (events, result) = run(&mut m);
    result.unwrap();
    assert_eq!(m.upload_id(), Some("new-id"));
    assert_eq!(events, (1..=3).map(|n| sent(&file, n, Status::Missing, 1)).collect::<Vec<_>>());
    let f = m.vault();
    let bodies: Vec<Call> = (1..=3)
        .map(|n| Call::Put { part: n, attempt: 1, len: file.part(n).len() as u64, md5: md5_hex(file.part(n)) })
        .collect();
    let mut want = vec![Call::Create { size: SIZE }];
    want.extend(bodies);
    want.extend([Call::Commit, Call::Job { job: 4242 }]);
    assert_eq!(f.calls, want);
    assert_eq!(
        m.totals(),
        Totals { parts: 3, kept: 0, sent: 3, bytes_sent: SIZE, bytes_hashed: SIZE, job_id: 4242, committed: true }
    );
    assert_eq!(m.next_event(), Ok(None), "DONE stays DONE");
    assert_eq!(m.vault().calls.len(), 6, "and makes no request");
}

#[test]
fn part_size_zero_on_a_new_session_is_the_library_choice() {
    // The choice is at least 8 MiB: two parts for 12 MiB.
    let file = TempFile::new("choice", SIZE);
    let mut m = machine(Fake::new_session(), &file, 0);
    let (events, result) = run(&mut m);
    result.unwrap();
    let sizes: Vec<(u32, u64, u64)> = events.iter().map(|e| (e.part_number, e.offset, e.size)).collect();
    assert_eq!(sizes, [(1, 0, 8 * MIB), (2, 8 * MIB, SIZE - 8 * MIB)]);
}

#[test]
fn a_resume_keeps_intact_parts_and_sends_every_other_one() {
    let file = TempFile::new("resume", 4 * P + 3);
    let mut corrupted = file.listed(2);
    corrupted.md5 = Some(md5_hex(b"something else"));
    let mut unverified = file.listed(3);
    unverified.md5 = None;
    let mut short_last = file.listed(5);
    short_last.size = 2;
    // Part 4 is missing.
    let listing = [file.listed(1), corrupted, unverified, short_last];
    let mut m = machine(Fake::resumed(4 * P + 3, &listing), &file, P);
    let (events, result) = run(&mut m);
    result.unwrap();
    assert_eq!(
        events,
        [
            kept(&file, 1),
            sent(&file, 2, Status::Md5Mismatch, 1),
            sent(&file, 3, Status::Unverified, 1),
            sent(&file, 4, Status::Missing, 1),
            sent(&file, 5, Status::SizeMismatch, 1),
        ]
    );
    let f = m.vault();
    assert_eq!(puts_of(f), [(2, 1), (3, 1), (4, 1), (5, 1)]);
    assert_eq!(f.calls[0], Call::Details, "a resume creates nothing");
    assert_eq!(f.count(|c| matches!(c, Call::Listed)), 5, "the whole listing, read once");
    let t = m.totals();
    assert_eq!((t.parts, t.kept, t.sent, t.bytes_sent), (5, 1, 4, 3 * P + 3));
}

#[test]
fn the_whole_listing_is_read_before_the_first_put() {
    let file = TempFile::new("order", SIZE);
    let mut m = machine(Fake::resumed(SIZE, &[file.listed(2)]), &file, P);
    run(&mut m).1.unwrap();
    let calls = &m.vault().calls;
    let first_put = calls.iter().position(|c| matches!(c, Call::Put { .. })).unwrap();
    let last_listed = calls.iter().rposition(|c| matches!(c, Call::Listed)).unwrap();
    assert!(last_listed < first_put, "{calls:?}");
}

#[test]
fn part_size_zero_on_a_resume_is_read_off_the_listing() {
    let file = TempFile::new("inferred", SIZE);
    let mut m = machine(Fake::resumed(SIZE, &[file.listed(1), file.listed(2)]), &file, 0);
    let (events, result) = run(&mut m);
    result.unwrap();
    assert_eq!(events, [kept(&file, 1), kept(&file, 2), sent(&file, 3, Status::Missing, 1)]);
}

/// E_CONFLICT, nothing sent and the session left alone.
fn assert_conflict(m: &mut Machine<Fake>, says: &str) {
    let e = m.next_event().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict, "{e}");
    assert!(e.message().contains(says) && e.message().ends_with("nothing was sent"), "{e}");
    let f = m.vault();
    assert_eq!(f.count(|c| matches!(c, Call::Put { .. } | Call::Commit | Call::Create { .. })), 0, "{:?}", f.calls);
    assert_eq!(m.next_event().unwrap_err(), e, "sticky");
}

#[test]
fn a_declared_size_other_than_the_file_size_is_a_conflict_before_the_listing() {
    let file = TempFile::new("declared", SIZE);
    let mut m = machine(Fake::resumed(SIZE + 1, &[file.listed(1)]), &file, P);
    assert_conflict(&mut m, &format!("created for {} bytes, the file has {SIZE}", SIZE + 1));
    assert_eq!(m.vault().calls, [Call::Details]);
}

#[test]
fn an_extra_part_is_a_conflict() {
    let file = TempFile::new("extra", SIZE);
    let extra = Part { part_number: 4, size: 1, md5: None };
    let mut m = machine(Fake::resumed(SIZE, &[file.listed(1), extra]), &file, P);
    assert_conflict(&mut m, "Vault lists part 4, past the file's last part 3");
}

#[test]
fn a_listed_part_of_another_part_size_is_a_conflict() {
    let file = TempFile::new("contradiction", SIZE);
    // Uploaded with 6 MiB parts, resumed with 5 MiB.
    let other = Part { part_number: 1, size: 6 * MIB, md5: None };
    let mut m = machine(Fake::resumed(SIZE, &[other]), &file, P);
    assert_conflict(
        &mut m,
        "Vault lists part 1 with 6291456 bytes, but every part before the last has the part size 5242880",
    );
}

#[test]
fn an_echo_wrong_once_is_sent_again_with_the_same_bytes() {
    let file = TempFile::new("echo-once", SIZE);
    let mut fake = Fake::new_session();
    fake.put = Box::new(|part, attempt| (part == 2 && attempt == 1).then_some(Answer::WrongMd5));
    let mut m = machine(fake, &file, P);
    let (events, result) = run(&mut m);
    result.unwrap();
    assert_eq!(events[1], sent(&file, 2, Status::Missing, 2));
    let f = m.vault();
    assert_eq!(puts_of(f), [(1, 1), (2, 1), (2, 2), (3, 1)]);
    let body = |attempt| Call::Put { part: 2, attempt, len: P, md5: md5_hex(file.part(2)) };
    assert!(f.calls.contains(&body(1)) && f.calls.contains(&body(2)), "the same bytes twice: {:?}", f.calls);
    assert_eq!(m.totals().bytes_sent, SIZE + P, "retries count");
}

#[test]
fn an_echo_wrong_on_every_attempt_is_an_integrity_failure_and_nothing_is_committed() {
    let file = TempFile::new("echo-always", SIZE);
    let mut fake = Fake::new_session();
    fake.put = Box::new(|part, _| (part == 2).then_some(Answer::WrongMd5));
    let mut m = machine(fake, &file, P);
    let (events, result) = run(&mut m);
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Integrity);
    assert!(e.message().contains("after 3 attempts"), "{e}");
    assert_eq!(events.len(), 1);
    let f = m.vault();
    assert_eq!(puts_of(f), [(1, 1), (2, 1), (2, 2), (2, 3)]);
    assert_eq!(f.count(|c| matches!(c, Call::Commit)), 0);
    assert_eq!(m.totals().bytes_sent, 4 * P, "every attempt counts");
    assert_eq!(m.upload_id(), Some("new-id"), "the ID outlives the failure: the session can be resumed");
}

#[test]
fn a_transient_failure_is_retried_and_a_fatal_one_is_not() {
    let file = TempFile::new("retry", SIZE);
    let mut fake = Fake::new_session();
    fake.put = Box::new(|part, attempt| match (part, attempt) {
        (1, 1) => Some(Answer::Transient(Error::new(ErrorKind::Http, "HTTP 503"))),
        (3, _) => Some(Answer::Fatal(Error::new(ErrorKind::Auth, "INVALID_SESSION_ID"))),
        _ => None,
    });
    let mut m = machine(fake, &file, P);
    let (events, result) = run(&mut m);
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Auth);
    assert_eq!(events, [sent(&file, 1, Status::Missing, 2), sent(&file, 2, Status::Missing, 1)]);
    assert_eq!(puts_of(m.vault()), [(1, 1), (1, 2), (2, 1), (3, 1)]);
}

#[test]
fn a_file_truncated_mid_upload_is_an_io_error_and_nothing_is_committed() {
    let file = TempFile::new("truncated", SIZE);
    let path = file.path.clone();
    let mut fake = Fake::new_session();
    fake.before_put = Box::new(move |part, _| {
        if part == 2 {
            std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(P + 10).unwrap();
        }
    });
    let mut m = machine(fake, &file, P);
    let (events, result) = run(&mut m);
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("changed"), "{e}");
    assert_eq!(events.len(), 1);
    assert_eq!(m.vault().count(|c| matches!(c, Call::Commit)), 0);
}

#[test]
fn a_file_replaced_mid_upload_is_an_io_error_and_nothing_is_committed() {
    let file = TempFile::new("replaced", SIZE);
    let path = file.path.clone();
    let mut fake = Fake::new_session();
    fake.before_put = Box::new(move |part, _| {
        if part == 3 {
            // Same size and bytes, another file: the path no longer names the one uploaded.
            let copy = path.with_extension("copy");
            std::fs::copy(&path, &copy).unwrap();
            std::fs::rename(&copy, &path).unwrap();
        }
    });
    let mut m = machine(fake, &file, P);
    let (events, result) = run(&mut m);
    assert_eq!(events.len(), 2);
    let e = result.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io, "{e}");
    assert!(e.message().contains("the path now names another file"), "{e}");
    assert_eq!(m.vault().count(|c| matches!(c, Call::Commit)), 0);
}

#[test]
fn commit_none_makes_no_commit_and_commit_does_not_poll() {
    let file = TempFile::new("modes", SIZE);
    let mut m = machine(Fake::new_session(), &file, P);
    m.set_commit(CommitMode::None).unwrap();
    assert_eq!(run(&mut m).0.len(), 3);
    assert_eq!(m.vault().count(|c| matches!(c, Call::Commit | Call::Job { .. })), 0);
    assert_eq!((m.totals().job_id, m.totals().committed), (0, false));

    let mut m = machine(Fake::new_session(), &file, P);
    m.set_commit(CommitMode::Commit).unwrap();
    run(&mut m).1.unwrap();
    assert_eq!(m.vault().count(|c| matches!(c, Call::Commit)), 1);
    assert_eq!(m.vault().count(|c| matches!(c, Call::Job { .. })), 0);
    assert_eq!((m.totals().job_id, m.totals().committed), (4242, true));
}

#[test]
fn a_job_that_ends_without_success_is_a_vault_error_naming_its_status() {
    let file = TempFile::new("job-fails", SIZE);
    let mut fake = Fake::new_session();
    fake.jobs = [pending("RUNNING"), JobStatus::Ended("ERRORS_ENCOUNTERED".into())].into();
    let mut m = machine(fake, &file, P);
    m.set_poll_interval(Duration::from_millis(100)).unwrap();
    let e = run(&mut m).1.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Vault);
    assert_eq!(
        e.message(),
        "the commit's job 4242 ended with status \"ERRORS_ENCOUNTERED\": the file is not on staging"
    );
    assert_eq!(e.vault_type(), Some("ERRORS_ENCOUNTERED"));
    assert!(m.totals().committed, "the commit itself was accepted");
}

#[test]
fn the_job_is_polled_no_more_often_than_the_interval() {
    let file = TempFile::new("poll", SIZE);
    let mut fake = Fake::new_session();
    fake.jobs = [pending("SCHEDULED"), pending("QUEUED"), pending("RUNNING"), JobStatus::Succeeded].into();
    let mut m = machine(fake, &file, P);
    let every = Duration::from_millis(150);
    m.set_poll_interval(every).unwrap();
    run(&mut m).1.unwrap();
    let polled = &m.vault().polled;
    assert_eq!(polled.len(), 4);
    for pair in polled.windows(2) {
        assert!(pair[1] - pair[0] >= every, "polled {:?} apart", pair[1] - pair[0]);
    }
}

#[test]
fn a_poll_wait_past_the_deadline_is_not_started() {
    let file = TempFile::new("deadline", SIZE);
    let mut fake = Fake::new_session();
    fake.jobs = [pending("RUNNING")].into();
    fake.deadline = Deadline::after(Duration::from_secs(60));
    let mut m = machine(fake, &file, P);
    m.set_poll_interval(Duration::from_secs(600)).unwrap();
    let started = Instant::now();
    let e = run(&mut m).1.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(e.message().contains("the wait of 600000 ms before polling job 4242 again would end past it"), "{e}");
    assert!(e.message().ends_with("the job was RUNNING"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(30), "the wait was not started");
    assert_eq!(m.vault().count(|c| matches!(c, Call::Job { .. })), 1);
}

#[test]
fn an_interrupt_ends_the_poll_wait_and_sticks() {
    let file = TempFile::new("interrupt", SIZE);
    let mut fake = Fake::new_session();
    fake.jobs = [pending("RUNNING")].into();
    let mut m = machine(fake, &file, P);
    m.set_poll_interval(Duration::from_secs(600)).unwrap();
    let interrupt = m.interrupter();
    let raiser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        interrupt.interrupt();
    });
    let started = Instant::now();
    let e = run(&mut m).1.unwrap_err();
    raiser.join().unwrap();
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(60), "not the 600 s wait");
    assert_eq!(m.next_event().unwrap_err(), e);
    assert_eq!(m.start().unwrap_err(), e);
}

#[test]
fn an_interrupt_before_the_start_sends_nothing() {
    let file = TempFile::new("interrupt-first", SIZE);
    let mut m = machine(Fake::new_session(), &file, P);
    m.interrupter().interrupt();
    assert_eq!(m.start().unwrap_err().kind(), ErrorKind::Cancelled);
    assert_eq!(m.vault().calls, []);
}

#[test]
fn start_is_idempotent() {
    let file = TempFile::new("start", SIZE);
    let mut m = machine(Fake::new_session(), &file, P);
    m.start().unwrap();
    m.start().unwrap();
    assert_eq!(m.vault().calls, [Call::Create { size: SIZE }]);
    assert_eq!(m.totals().parts, 3);
    assert_eq!(run(&mut m).0.len(), 3);

    // A failed start: the same error again, and no second request.
    let mut m = machine(Fake::resumed(1, &[]), &file, P);
    let e = m.start().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Conflict);
    assert_eq!(m.start().unwrap_err(), e);
    assert_eq!(m.vault().calls, [Call::Details]);
}

#[test]
fn setters_after_the_start_are_misuse_and_change_nothing() {
    let file = TempFile::new("misuse", SIZE);
    let mut m = machine(Fake::new_session(), &file, P);
    m.set_commit(CommitMode::None).unwrap();
    assert_eq!(m.next_event().unwrap().unwrap().part_number, 1);
    assert_eq!(m.set_commit(CommitMode::Wait).unwrap_err().kind(), ErrorKind::Arg);
    assert_eq!(m.set_poll_interval(Duration::from_secs(1)).unwrap_err().kind(), ErrorKind::Arg);
    assert!(m.error().is_none(), "misuse leaves no error");
    assert_eq!(run(&mut m).0.len(), 2, "the upload goes on");
    assert_eq!(m.vault().count(|c| matches!(c, Call::Commit)), 0, "the mode set before the start holds");
}

#[test]
fn a_poll_interval_out_of_range_fails_the_upload_for_good() {
    let file = TempFile::new("poll-range", SIZE);
    for bad in [Duration::from_millis(99), Duration::from_millis(600_001)] {
        let mut m = machine(Fake::new_session(), &file, P);
        let e = m.set_poll_interval(bad).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Arg);
        assert!(e.message().contains("100 to 600000 ms"), "{e}");
        assert_eq!(m.next_event().unwrap_err(), e, "sticky");
        assert_eq!(m.vault().calls, []);
    }
    let mut m = machine(Fake::new_session(), &file, P);
    m.set_poll_interval(Duration::from_millis(100)).unwrap();
    m.set_poll_interval(Duration::from_secs(600)).unwrap();
}

#[test]
fn an_explicit_part_size_vault_refuses_is_refused_before_any_request() {
    let file = TempFile::new("bad-size", SIZE);
    for (fake, size) in [(Fake::new_session(), P - 1), (Fake::resumed(SIZE, &[]), 50 * MIB + 1)] {
        let mut m = machine(fake, &file, size);
        assert_eq!(m.start().unwrap_err().kind(), ErrorKind::Arg);
        assert_eq!(m.vault().calls, []);
    }
}

#[test]
fn a_listing_error_stops_the_upload_before_any_put() {
    let file = TempFile::new("listing-error", SIZE);
    let mut fake = Fake::resumed(SIZE, &[file.listed(1)]);
    fake.listing_error = Some(Error::new(ErrorKind::Http, "HTTP 500 from the listing"));
    let mut m = machine(fake, &file, P);
    assert_eq!(m.next_event().unwrap_err().message(), "HTTP 500 from the listing");
    assert_eq!(m.vault().count(|c| matches!(c, Call::Put { .. })), 0);
}

#[test]
fn errors_pass_the_redactor_once_and_are_logged() {
    let file = TempFile::new("redact", SIZE);
    let mut fake = Fake::new_session();
    fake.put = Box::new(|_, _| Some(Answer::Fatal(Error::new(ErrorKind::Vault, "echoed fake-session-secret"))));
    let mut m = machine(fake, &file, P);
    let e = run(&mut m).1.unwrap_err();
    assert_eq!(e.message(), "echoed [redacted]");
    let errors: Vec<_> = m.vault().logged.iter().filter(|(l, _)| *l == crate::log::Level::Error).collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(m.fail(Error::arg("later")), e, "the first error wins");
}

#[test]
fn an_upload_over_a_failed_listing_fails_with_its_error_and_shares_its_interrupt() {
    let listing = crate::Listing::new("http://127.0.0.1:9", "sid-unit-test", "bad/id");
    let want = listing.error().cloned().expect("a bad upload session id fails the listing");
    let mut u = super::Upload::new(listing, "/nonexistent", 0);
    assert_eq!(u.error(), Some(&want));
    assert_eq!(u.start().unwrap_err(), want);
    assert_eq!(u.next_event().unwrap_err(), want);
    assert_eq!(u.set_commit(CommitMode::None).unwrap_err(), want);
    assert_eq!((u.upload_id(), u.http_status(), u.retry_after()), (None, 0, None));
    assert_eq!(u.totals(), Totals::default());

    let listing = crate::Listing::new("http://127.0.0.1:9", "sid-unit-test", "up1");
    let interrupt = listing.interrupter();
    let u = super::Upload::new(listing, "/nonexistent", 0);
    interrupt.interrupt();
    assert!(u.interrupter().is_raised(), "one flag for the listing and the upload");

    let mut u = super::Upload::failed(Error::arg("path is NULL"));
    assert_eq!(u.next_event().unwrap_err().message(), "path is NULL");
}

#[test]
fn part_one_alone_tells_the_part_size_and_no_parts_get_the_library_choice() {
    let file = TempFile::new("part-one", SIZE);
    let mut m = machine(Fake::resumed(SIZE, &[file.listed(1)]), &file, 0);
    let (events, result) = run(&mut m);
    result.unwrap();
    assert_eq!(events, [kept(&file, 1), sent(&file, 2, Status::Missing, 1), sent(&file, 3, Status::Missing, 1)]);

    let mut m = machine(Fake::resumed(SIZE, &[]), &file, 0);
    let (events, result) = run(&mut m);
    result.unwrap();
    let sizes: Vec<u64> = events.iter().map(|e| e.size).collect();
    assert_eq!(sizes, [8 * MIB, SIZE - 8 * MIB]);
    assert_eq!(m.vault().count(|c| matches!(c, Call::Create { .. })), 0, "the session exists");
}

#[test]
fn a_listing_that_cannot_tell_the_part_size_is_refused_before_any_put() {
    let file = TempFile::new("cannot-tell", SIZE);
    let mut m = machine(Fake::resumed(SIZE, &[file.listed(3)]), &file, 0);
    let e = m.next_event().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Arg);
    assert!(e.message().contains("the listing has only part 3, which may be the last"), "{e}");
    // Parts of 1 MiB: below Vault's minimum, the server's error.
    let tiny = |n| Part { part_number: n, size: MIB, md5: None };
    let mut m = machine(Fake::resumed(SIZE, &[tiny(1), tiny(2)]), &file, 0);
    assert_eq!(m.next_event().unwrap_err().kind(), ErrorKind::Protocol);
    assert_eq!(m.vault().count(|c| matches!(c, Call::Put { .. })), 0);
}
