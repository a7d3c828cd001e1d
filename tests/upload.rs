//! The upload C API (vault_parts_open_new, vault_parts_upload_*) through the C ABI:
//! tests-c/upload.c and tests-c/upload_threads.c against vault-sim, natively, with ASan+UBSan,
//! and under valgrind. Each scenario asserts what the program reported (codes, messages,
//! events, totals) and what the server saw (requests, PUT order, PUTs in flight, commits, job
//! polls, the staged file's MD5 against the local file's).

mod harness;

use harness::files::Dir;
use harness::{program_for, run, stretch_timeouts, Mode, Run};
use md5::{Digest, Md5};
use std::time::Duration;
use vault_sim::{Action, Config, Endpoint, PartFault, Recorded, SessionState, Sim, When};

const SID: &str = "SID-upload-c-5b2e9a41d0";
const UPLOAD: &str = "tests-c/upload.c";
const MIB: u64 = 1 << 20;
/// Vault's smallest part, the part size of these tests.
const P: u64 = 5 * MIB;
/// Three parts: 5 MiB, 5 MiB, 2 MiB + 17 bytes.
const SIZE: u64 = 12 * MIB + 17;
const STAGING: &str = "/u/alice/big.bin";

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// Fast job polls allowed by the server (the library's own interval is set per scenario).
fn config() -> Config {
    Config { job_poll_window: Duration::from_millis(100), ..Config::default().user(SID, "alice", false) }
}

/// As harness::scenario (every mode: natively, ASan+UBSan, valgrind when installed; a fresh
/// simulator per mode), with the mode passed to `args` and each run's time printed.
fn scenario(
    name: &str,
    config: impl Fn() -> Config,
    source: &str,
    args: impl Fn(&Sim, Mode) -> Vec<String>,
    check: impl Fn(&Sim, &Run),
) {
    for mode in Mode::all() {
        let exe = program_for(source, mode == Mode::Sanitized);
        let sim = Sim::start(config()).or_else(|_| Sim::start(config())).expect("vault-sim starts");
        let run = run(mode, &exe, &stretch_timeouts(mode, args(&sim, mode)), &[]);
        if mode == Mode::Valgrind && run.code == 99 {
            panic!("valgrind found errors or definite leaks in {source}:\n{}", run.stderr);
        }
        if mode == Mode::Sanitized && (run.code == 98 || run.stderr.contains("Sanitizer")) {
            panic!("the sanitizers reported a problem in {source}:\n{}", run.stderr);
        }
        eprintln!("{name}: {mode:?} took {:?}", run.elapsed);
        check(&sim, &run);
    }
}

/// `upload run URL SID PATH PART_SIZE OPTS...`
fn args(sim: &Sim, path: &str, part_size: u64, opts: &[&str]) -> Vec<String> {
    let mut a = vec!["run".to_owned(), sim.url(), SID.to_owned(), path.to_owned(), part_size.to_string()];
    a.extend(opts.iter().map(|s| s.to_string()));
    a
}

/// The program's own checks held and nothing secret came out.
fn assert_ran(run: &Run) {
    assert_eq!(run.code, 0, "({:?}) the program's checks failed:\n{}{}", run.mode, run.stdout, run.stderr);
    assert!(!run.stdout.contains(SID), "({:?}) the session ID leaked:\n{}", run.mode, run.stdout);
    assert!(!run.stderr.contains(SID), "({:?}) the session ID leaked:\n{}", run.mode, run.stderr);
}

fn events(run: &Run) -> Vec<String> {
    run.stdout.lines().filter(|l| l.starts_with("event ")).map(str::to_owned).collect()
}

/// A local file and its bytes.
struct Local {
    path: String,
    bytes: Vec<u8>,
}

impl Local {
    fn new(dir: &Dir, name: &str, len: u64) -> Local {
        let path = dir.file(name, len);
        let bytes = std::fs::read(&path).unwrap();
        Local { path, bytes }
    }

    fn md5(&self) -> String {
        md5_hex(&self.bytes)
    }

    /// The event line for part `n` at part size `ps`.
    fn event(&self, n: u64, ps: u64, verdict: &str, action: &str, attempts: u32) -> String {
        let from = (n - 1) * ps;
        let to = (from + ps).min(self.bytes.len() as u64);
        let part = &self.bytes[from as usize..to as usize];
        format!("event {n} {verdict} {action} {from} {} {} {attempts}", to - from, md5_hex(part))
    }

    fn sent(&self, n: u64, verdict: &str, attempts: u32) -> String {
        self.event(n, P, verdict, "SENT", attempts)
    }
}

fn puts(sim: &Sim) -> Vec<Recorded> {
    sim.requests().into_iter().filter(|r| r.method == "PUT").collect()
}

fn count(sim: &Sim, method: &str, path_has: &str) -> usize {
    sim.requests().iter().filter(|r| r.method == method && r.path.contains(path_has)).count()
}

/// Commit requests: POST .../upload/{id}.
fn commits(sim: &Sim) -> usize {
    count(sim, "POST", "/file_staging/upload/")
}

/// Create requests: POST .../file_staging/upload.
fn creates(sim: &Sim) -> usize {
    sim.requests().iter().filter(|r| r.method == "POST" && r.path.ends_with("/file_staging/upload")).count()
}

fn only_session(sim: &Sim) -> vault_sim::SessionView {
    let sessions = sim.sessions();
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    sessions.into_iter().next().unwrap()
}

/// "summary PARTS KEPT SENT BYTES_SENT BYTES_HASHED JOB_ID COMMITTED" as numbers.
fn summary(run: &Run) -> Vec<u64> {
    run.field("summary").split(' ').map(|v| v.parse().unwrap()).collect()
}

/// A new upload end to end under COMMIT_WAIT: the ID known after the start (called twice, one
/// create), three parts sent in order one at a time, the staged file's MD5 the local file's, and
/// the job polled at the library's interval (200 ms) though the server allows every 100 ms.
#[test]
fn a_new_upload_end_to_end_with_the_poll_interval_kept() {
    let dir = Dir::new("vp-upload-c", "new");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "new upload",
        || Config { job_delay: Duration::from_millis(700), ..config() },
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=200", "start=1", "commit=2"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("open"), "OK");
            assert_eq!(run.field("set_commit"), "OK");
            assert_eq!(run.field("set_poll"), "OK");
            assert_eq!(run.field("start"), "OK");
            let session = only_session(sim);
            assert_eq!(run.field("id"), session.id);
            assert_eq!(run.field("final_id"), session.id);
            assert_eq!(creates(sim), 1, "start twice creates once: {:?}", sim.requests());
            assert_eq!(
                events(run),
                (1..=3).map(|n| file.sent(n, "MISSING", 1)).collect::<Vec<_>>(),
                "({:?})",
                run.mode
            );
            assert_eq!(run.field("result"), "DONE");
            assert_eq!(run.field("errmsg"), "");
            assert_eq!(run.field("error_type"), "");
            let t = summary(run);
            assert_eq!(t, vec![3, 0, 3, SIZE, SIZE, t[5], 1], "({:?})", run.mode);
            assert_ne!(t[5], 0);
            let staged = sim.staged(STAGING).expect("the file is on staging");
            assert_eq!((staged.size, staged.upload_id.as_str()), (SIZE, session.id.as_str()));
            assert_eq!(staged.md5().unwrap(), file.md5());
            assert_eq!(session.put_order, [1, 2, 3]);
            assert_eq!(session.max_puts_in_flight, 1, "one PUT at a time");
            assert_eq!(session.commits.len(), 1);
            assert_eq!(session.jobs, [t[5]]);
            for (r, n) in puts(sim).iter().zip(1u64..) {
                assert_eq!(r.header("X-VaultAPI-FilePartNumber"), Some(n.to_string().as_str()));
                let part = &file.bytes[((n - 1) * P) as usize..(n * P).min(SIZE) as usize];
                assert_eq!((r.body_len, r.body_md5.as_str()), (part.len() as u64, md5_hex(part).as_str()));
            }
            let job = sim.job(t[5]).unwrap();
            assert!(job.polls.len() >= 2, "a 700 ms job polled every 200 ms: {:?}", job.polls);
            assert!(job.polls.iter().all(|p| !p.refused), "no poll inside the window: {:?}", job.polls);
            for pair in job.polls.windows(2) {
                assert!(pair[1].at - pair[0].at >= Duration::from_millis(200), "({:?}) {:?}", run.mode, job.polls);
            }
        },
    );
}

/// A resume (part size 0, read off the listing): parts 1 and 3 kept, part 2 (its MD5 wrong on
/// Vault) re-sent, 4 and 5 sent; nothing created.
#[test]
fn a_resume_keeps_intact_parts_resends_a_corrupted_one_and_sends_the_rest() {
    let dir = Dir::new("vp-upload-c", "resume");
    let file = Local::new(&dir, "f", 4 * P + 3);
    let mut upload = vault_sim::Upload::from_file("up-res1", "alice", &file.path, P, 3).unwrap();
    upload.part_fault(PartFault::WrongMd5(2));
    let upload = upload.staging_path(STAGING);
    scenario(
        "resume",
        || config().upload(upload.clone()),
        UPLOAD,
        |s, _| args(s, &file.path, 0, &["resume=up-res1", "poll=100"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(
                events(run),
                [
                    file.event(1, P, "OK", "KEPT", 0),
                    file.sent(2, "MD5_MISMATCH", 1),
                    file.event(3, P, "OK", "KEPT", 0),
                    file.sent(4, "MISSING", 1),
                    file.sent(5, "MISSING", 1),
                ],
                "({:?})",
                run.mode
            );
            assert_eq!(run.field("result"), "DONE");
            let t = summary(run);
            assert_eq!(&t[..5], [5, 2, 3, 2 * P + 3, 4 * P + 3], "({:?})", run.mode);
            assert_eq!(t[6], 1);
            let session = sim.session("up-res1").unwrap();
            assert_eq!(session.put_order, [2, 4, 5]);
            assert_eq!(session.max_puts_in_flight, 1);
            assert_eq!(creates(sim), 0);
            assert_eq!(sim.staged(STAGING).unwrap().md5().unwrap(), file.md5());
            assert_eq!(run.field("final_id"), "up-res1");
        },
    );
}

/// Part 1 alone tells the part size (here through a vault_parts_client); with no parts the
/// library picks 8 MiB; with every part there nothing is sent and the commit follows.
#[test]
fn a_session_with_only_part_one_or_no_parts_is_completed() {
    let dir = Dir::new("vp-upload-c", "few");
    let file = Local::new(&dir, "f", SIZE);
    for uploaded in [1u32, 0, 3] {
        let upload =
            vault_sim::Upload::from_file("up-few", "alice", &file.path, P, uploaded).unwrap().staging_path(STAGING);
        scenario(
            ["no parts", "only part 1", "", "every part"][uploaded as usize],
            || config().upload(upload.clone()),
            UPLOAD,
            |s, _| args(s, &file.path, 0, &["resume=up-few", "poll=100", "client=1"]),
            |sim, run| {
                assert_ran(run);
                assert_eq!(run.field("result"), "DONE", "uploaded {uploaded}");
                let kept = |n| file.event(n, P, "OK", "KEPT", 0);
                let (want, put_order) = match uploaded {
                    1 => (vec![kept(1), file.sent(2, "MISSING", 1), file.sent(3, "MISSING", 1)], vec![2, 3]),
                    0 => (
                        vec![
                            file.event(1, 8 * MIB, "MISSING", "SENT", 1),
                            file.event(2, 8 * MIB, "MISSING", "SENT", 1),
                        ],
                        vec![1, 2],
                    ),
                    _ => (vec![kept(1), kept(2), kept(3)], vec![]),
                };
                assert_eq!(events(run), want, "({:?}) uploaded {uploaded}", run.mode);
                let session = sim.session("up-few").unwrap();
                assert_eq!(session.put_order, put_order);
                assert_eq!(session.commits.len(), 1, "committed also when every part was kept");
                assert_eq!(sim.staged(STAGING).unwrap().md5().unwrap(), file.md5());
                let t = summary(run);
                assert_eq!(
                    t[3],
                    want.iter()
                        .filter(|e| e.contains(" SENT "))
                        .map(|e| e.split(' ').nth(5).unwrap().parse::<u64>().unwrap())
                        .sum::<u64>()
                );
                assert_eq!(t[4], SIZE, "every part hashed");
            },
        );
    }
}

/// E_CONFLICT with nothing sent: no PUT, no POST (neither create nor commit).
fn assert_conflict(sim: &Sim, run: &Run, says: &str) {
    assert_ran(run);
    assert_eq!(run.field("result"), "E_CONFLICT");
    assert!(run.field("errmsg").contains(says), "({:?}) {}", run.mode, run.field("errmsg"));
    assert!(events(run).is_empty());
    assert_eq!(count(sim, "PUT", "") + count(sim, "POST", ""), 0, "{:?}", sim.requests());
    assert_eq!(summary(run)[3], 0, "no bytes sent");
}

#[test]
fn a_declared_size_other_than_the_file_size_is_a_conflict_with_nothing_sent() {
    let dir = Dir::new("vp-upload-c", "declared");
    let file = Local::new(&dir, "f", SIZE);
    let upload = vault_sim::Upload::from_file("up-dec", "alice", &file.path, P, 1).unwrap().declared_size(SIZE + 1);
    scenario(
        "declared size",
        || config().upload(upload.clone()),
        UPLOAD,
        |s, _| args(s, &file.path, P, &["resume=up-dec", "start=1"]),
        |sim, run| {
            assert_eq!(run.field("start"), "E_CONFLICT");
            assert_conflict(sim, run, &format!("created for {} bytes, the file has {SIZE}", SIZE + 1));
            assert_eq!(count(sim, "GET", "/parts"), 0, "refused before the listing");
        },
    );
}

#[test]
fn an_extra_part_is_a_conflict_with_nothing_sent() {
    let dir = Dir::new("vp-upload-c", "extra");
    let file = Local::new(&dir, "f", SIZE);
    let longer = Local::new(&dir, "longer", SIZE + P);
    let upload = vault_sim::Upload::from_file("up-ext", "alice", &longer.path, P, 4).unwrap().declared_size(SIZE);
    scenario(
        "extra part",
        || config().upload(upload.clone()),
        UPLOAD,
        |s, _| args(s, &file.path, P, &["resume=up-ext"]),
        |sim, run| assert_conflict(sim, run, "Vault lists part 4, past the file's last part 3"),
    );
}

/// An explicit part size outside [5 MiB, 50 MiB] is E_ARG before any request.
#[test]
fn a_part_size_outside_vaults_limits_is_refused_before_any_request() {
    let dir = Dir::new("vp-upload-c", "psize");
    let file = Local::new(&dir, "f", SIZE);
    for ps in [P - 1, 50 * MIB + 1] {
        scenario(
            "part size",
            config,
            UPLOAD,
            |s, _| args(s, &file.path, ps, &[&format!("new={STAGING}")]),
            |sim, run| {
                assert_ran(run);
                assert_eq!(run.field("result"), "E_ARG", "part size {ps}");
                assert_eq!(
                    run.field("errmsg"),
                    format!(
                        "part_size {ps}: Vault takes parts of 5242880 to 52428800 bytes (5 MiB to 50 MiB); 0 lets the library choose"
                    )
                );
                assert_eq!(sim.requests().len(), 0, "{:?}", sim.requests());
                assert_eq!(run.field("final_id"), "-");
            },
        );
    }
}

#[test]
fn a_put_reset_mid_body_is_retried_with_the_same_bytes() {
    let dir = Dir::new("vp-upload-c", "reset");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "reset mid body",
        || config().fault_on(Endpoint::Put, When::Request(1), Action::ResetMidBody),
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "DONE");
            let ev = events(run);
            assert_eq!(ev[0], file.sent(1, "MISSING", 2), "({:?})", run.mode);
            assert_eq!(&ev[1..], [file.sent(2, "MISSING", 1), file.sent(3, "MISSING", 1)]);
            let p = puts(sim);
            assert_eq!(p.len(), 4);
            assert!(!p[0].body_complete && p[1].body_complete);
            assert_eq!(p[1].body_md5, md5_hex(&file.bytes[..P as usize]));
            assert_eq!(only_session(sim).put_order, [1, 1, 2, 3]);
            assert_eq!(sim.staged(STAGING).unwrap().md5().unwrap(), file.md5());
        },
    );
}

#[test]
fn an_echo_wrong_once_is_resent_and_always_is_an_integrity_failure() {
    let dir = Dir::new("vp-upload-c", "echo");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "echo wrong once",
        || config().fault_on(Endpoint::Put, When::Request(2), Action::EchoMd5),
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "DONE");
            assert_eq!(
                events(run),
                [file.sent(1, "MISSING", 1), file.sent(2, "MISSING", 2), file.sent(3, "MISSING", 1)],
                "({:?})",
                run.mode
            );
            assert_eq!(only_session(sim).put_order, [1, 2, 2, 3]);
            let bodies: Vec<String> = puts(sim).iter().map(|r| r.body_md5.clone()).collect();
            assert_eq!(bodies[1], bodies[2], "the same bytes again");
            assert_eq!(summary(run)[3], SIZE + P);
            assert_eq!(sim.staged(STAGING).unwrap().md5().unwrap(), file.md5());
        },
    );
    scenario(
        "echo always wrong",
        || config().fault_on(Endpoint::Put, When::Always, Action::EchoMd5),
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_INTEGRITY");
            assert!(run.field("errmsg").contains("(after 3 attempts)"), "({:?}) {}", run.mode, run.field("errmsg"));
            assert!(events(run).is_empty());
            assert_eq!(only_session(sim).put_order, [1, 1, 1]);
            assert_eq!(commits(sim), 0, "no commit");
            let t = summary(run);
            assert_eq!((t[3], t[6]), (3 * P, 0), "every attempt counts, nothing committed");
        },
    );
}

#[test]
fn a_429_with_retry_after_on_a_put_is_waited_out() {
    let dir = Dir::new("vp-upload-c", "429");
    let file = Local::new(&dir, "f", SIZE);
    let busy = Action::Status { code: 429, body: "slow down".into(), retry_after: Some(1) };
    scenario(
        "429",
        || config().fault_on(Endpoint::Put, When::Request(2), busy.clone()),
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "DONE");
            assert_eq!(events(run)[1], file.sent(2, "MISSING", 2), "({:?})", run.mode);
            let p = puts(sim);
            assert_eq!(p.len(), 4);
            assert!(p[2].at - p[1].at >= Duration::from_secs(1), "Retry-After honoured: {:?}", p[2].at - p[1].at);
            assert_eq!(sim.staged(STAGING).unwrap().md5().unwrap(), file.md5());
        },
    );
}

#[test]
fn an_auth_failure_on_a_put_is_not_retried_and_nothing_is_committed() {
    let dir = Dir::new("vp-upload-c", "auth");
    let file = Local::new(&dir, "f", SIZE);
    let refused = Action::VaultError {
        status: "FAILURE".into(),
        kind: "INVALID_SESSION_ID".into(),
        message: format!("Invalid or inactive session ID {SID}"),
    };
    scenario(
        "auth",
        || config().fault_on(Endpoint::Put, When::Request(2), refused.clone()),
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_AUTH");
            assert_eq!(run.field("error_type"), "INVALID_SESSION_ID");
            assert_eq!(events(run), [file.sent(1, "MISSING", 1)], "({:?})", run.mode);
            let session = only_session(sim);
            assert_eq!(session.put_order, [1, 2], "not retried");
            assert_eq!(commits(sim), 0);
            assert_eq!(run.field("final_id"), session.id, "the session can be resumed");
            assert_eq!(summary(run)[6], 0);
        },
    );
}

/// vault_parts_upload_interrupt from another thread while PUT 2 hangs: E_CANCELLED within the
/// mode's slack (2 s natively and with the sanitizers, 30 s under valgrind; the promise is
/// 100 ms, and a wait for the hang's timeout would take far longer), no commit.
#[test]
fn an_interrupt_from_another_thread_during_a_hung_put_ends_the_upload() {
    let dir = Dir::new("vp-upload-c", "hang");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "interrupt",
        || config().fault_on(Endpoint::Put, When::Request(2), Action::Hang),
        UPLOAD,
        // Long enough for PUT 2's head to reach the server first (valgrind reads slowly).
        |s, mode| {
            let wait = if mode == Mode::Valgrind { "interrupt_ms=3000" } else { "interrupt_ms=300" };
            args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100", wait])
        },
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_CANCELLED");
            assert!(run.field("errmsg").contains("interrupted"), "{}", run.field("errmsg"));
            assert_eq!(events(run), [file.sent(1, "MISSING", 1)]);
            let latency: f64 = run.field("latency_ms").parse().unwrap();
            eprintln!("interrupt ({:?}): returned {latency} ms after the interrupt", run.mode);
            assert!(latency >= 0.0, "({:?}) next returned before the interrupt: {latency} ms", run.mode);
            assert!(
                latency < run.mode.slack().as_millis() as f64,
                "({:?}) returned {latency} ms after the interrupt",
                run.mode
            );
            assert_eq!(only_session(sim).put_order, [1, 2], "interrupted during PUT 2");
            assert_eq!(commits(sim), 0);
        },
    );
}

#[test]
fn the_file_truncated_mid_upload_is_an_io_error_and_no_commit_follows() {
    let dir = Dir::new("vp-upload-c", "truncate");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "truncate",
        config,
        UPLOAD,
        |s, _| {
            // Each mode truncates it: restored first.
            std::fs::write(&file.path, &file.bytes).unwrap();
            args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100", &format!("truncate_after=1,{}", P + 1)])
        },
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("truncated"), (P + 1).to_string());
            assert_eq!(run.field("result"), "E_IO");
            assert!(
                run.field("errmsg").contains("changed while uploading"),
                "({:?}) {}",
                run.mode,
                run.field("errmsg")
            );
            assert_eq!(events(run)[0], file.sent(1, "MISSING", 1));
            assert_eq!(commits(sim), 0);
            assert!(sim.staged(STAGING).is_none());
        },
    );
}

#[test]
fn a_job_that_fails_is_a_vault_error_naming_its_status() {
    let dir = Dir::new("vp-upload-c", "job");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "job fails",
        || config().fault_on(Endpoint::Commit, When::Always, Action::JobStatus("ERRORS_ENCOUNTERED".into())),
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_VAULT");
            let t = summary(run);
            assert_eq!(
                run.field("errmsg"),
                format!(
                    "the commit's job {} ended with status \"ERRORS_ENCOUNTERED\": the file is not on staging",
                    t[5]
                )
            );
            assert_eq!(events(run).len(), 3);
            assert_eq!(t[6], 1, "committed");
            assert_eq!(commits(sim), 1);
            assert!(sim.staged(STAGING).is_none());
        },
    );
}

/// COMMIT_NONE: no commit request, the session left open. COMMIT: one commit, no job poll.
#[test]
fn commit_none_sends_no_commit_and_commit_does_not_poll() {
    let dir = Dir::new("vp-upload-c", "modes");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "commit none",
        config,
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "commit=0"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "DONE");
            assert_eq!(events(run).len(), 3);
            assert_eq!(commits(sim), 0, "{:?}", sim.requests());
            assert_eq!(only_session(sim).state, SessionState::Open);
            let t = summary(run);
            assert_eq!((t[5], t[6]), (0, 0));
        },
    );
    scenario(
        "commit",
        || Config { job_delay: Duration::from_secs(60), ..config() },
        UPLOAD,
        |s, _| args(s, &file.path, P, &[&format!("new={STAGING}"), "commit=1"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "DONE");
            assert!(run.elapsed < Duration::from_secs(60), "no wait for the job");
            assert_eq!(count(sim, "GET", "/jobs/"), 0);
            let t = summary(run);
            assert_eq!(t[6], 1);
            assert_eq!(only_session(sim).jobs, [t[5]]);
        },
    );
}

/// Misuse and NULLs for every function (tests-c/upload.c's api part); the server side: only the
/// two uploads that were meant to reach it made sessions, neither committed.
#[test]
fn arguments_and_lifecycle() {
    let dir = Dir::new("vp-upload-c", "api");
    let file = Local::new(&dir, "f", 2 * P + 100);
    let upload = vault_sim::Upload::from_file("up-api", "alice", &file.path, P, 2).unwrap();
    scenario(
        "api",
        || config().upload(upload.clone()),
        UPLOAD,
        |s, _| vec!["api".into(), s.url(), SID.into(), file.path.clone(), "up-api".into()],
        |sim, run| {
            assert_ran(run);
            assert!(run.stdout.contains("upload_api: 0 failed checks"), "{}", run.stdout);
            let mut made: Vec<(String, SessionState)> =
                sim.sessions().into_iter().filter(|s| s.id != "up-api").map(|s| (s.path, s.state)).collect();
            made.sort_by(|a, b| a.0.cmp(&b.0));
            assert_eq!(
                made,
                [
                    ("/u/alice/api-next.bin".to_owned(), SessionState::Open),
                    ("/u/alice/api-none.bin".to_owned(), SessionState::Open)
                ],
                "({:?})",
                run.mode
            );
            assert_eq!(commits(sim), 0);
            assert_eq!(sim.session("up-api").unwrap().put_order, Vec::<u32>::new(), "freed after part 1 (kept)");
            let none = sim.sessions().into_iter().find(|s| s.path == "/u/alice/api-none.bin").unwrap();
            assert_eq!(run.field("none_id"), none.id);
            assert_eq!(none.put_order, [1, 2], "2 P + 100 bytes in parts of 8 MiB");
        },
    );
}

/// Eight uploads on one vault_parts_client from eight threads: each its own session, parts in
/// order one at a time, every staged file the local file.
#[test]
fn eight_threads_upload_on_one_client() {
    let dir = Dir::new("vp-upload-c", "threads");
    let files: Vec<Local> = (1..=8u64).map(|i| Local::new(&dir, &format!("f{i}"), P + i * 1000 + 1)).collect();
    let jobs: Vec<String> = files.iter().zip(1..).map(|(f, i)| format!("/u/alice/t{i}.bin:{}", f.path)).collect();
    scenario(
        "threads",
        config,
        "tests-c/upload_threads.c",
        |s, _| {
            [s.url(), SID.to_owned(), P.to_string(), "100".to_owned()].into_iter().chain(jobs.iter().cloned()).collect()
        },
        |sim, run| {
            assert_ran(run);
            assert!(run.stdout.contains("upload_threads: 0 failed checks"), "{}", run.stdout);
            assert_eq!(run.stdout.lines().filter(|l| l.ends_with(" DONE")).count(), 8, "{}", run.stdout);
            let sessions = sim.sessions();
            assert_eq!(sessions.len(), 8);
            for s in &sessions {
                assert_eq!(s.put_order, [1, 2], "{}", s.path);
                assert_eq!(s.max_puts_in_flight, 1);
                assert!(matches!(s.state, SessionState::Committed { .. }), "{} {:?}", s.path, s.state);
            }
            for (f, i) in files.iter().zip(1..) {
                let staged = sim.staged(&format!("/u/alice/t{i}.bin")).expect("staged");
                assert_eq!(staged.md5().unwrap(), f.md5(), "t{i}");
            }
            assert_eq!(creates(sim), 8);
        },
    );
}

/// The interrupt also ends the waits: the commit's job poll (every 600 s here, the job runs
/// 120 s) and a 429's Retry-After (30 s) on PUT 2. E_CANCELLED within the mode's slack, as above.
#[test]
fn an_interrupt_ends_a_job_poll_wait_and_a_retry_after_wait() {
    let dir = Dir::new("vp-upload-c", "waits");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "interrupt in the poll wait",
        || Config { job_delay: Duration::from_secs(120), ..config() },
        UPLOAD,
        // Raised once every part is sent (under valgrind the parts take several seconds).
        |s, mode| {
            let wait = if mode == Mode::Valgrind { "interrupt_ms=15000" } else { "interrupt_ms=2000" };
            args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=600000", wait])
        },
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_CANCELLED");
            assert_eq!(events(run).len(), 3);
            let latency: f64 = run.field("latency_ms").parse().unwrap();
            eprintln!("interrupt in the poll wait ({:?}): returned {latency} ms after the interrupt", run.mode);
            assert!((0.0..run.mode.slack().as_millis() as f64).contains(&latency), "({:?}) {latency} ms", run.mode);
            let t = summary(run);
            assert_eq!(t[6], 1, "the commit was accepted before the interrupt");
            assert!(sim.job(t[5]).unwrap().polls.len() <= 1, "{:?}", sim.job(t[5]).unwrap().polls);
            assert_eq!(commits(sim), 1);
        },
    );
    let busy = Action::Status { code: 429, body: "slow down".into(), retry_after: Some(30) };
    scenario(
        "interrupt in a Retry-After wait",
        || config().fault_on(Endpoint::Put, When::Request(2), busy.clone()),
        UPLOAD,
        |s, mode| {
            let wait = if mode == Mode::Valgrind { "interrupt_ms=5000" } else { "interrupt_ms=500" };
            // No wait exceeds the backoff's maximum: 60 s, so the 30 s are waited for.
            args(s, &file.path, P, &[&format!("new={STAGING}"), "poll=100", "backoff=10,60000", wait])
        },
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_CANCELLED");
            assert_eq!(events(run), [file.sent(1, "MISSING", 1)]);
            let latency: f64 = run.field("latency_ms").parse().unwrap();
            eprintln!("interrupt in a Retry-After wait ({:?}): returned {latency} ms after the interrupt", run.mode);
            assert!((0.0..run.mode.slack().as_millis() as f64).contains(&latency), "({:?}) {latency} ms", run.mode);
            assert_eq!(only_session(sim).put_order, [1, 2], "no retry of PUT 2 after the interrupt");
            assert_eq!(commits(sim), 0);
        },
    );
}

/// A session ID Vault does not know: the create is refused (E_AUTH, one request, not retried),
/// no session ID is ever known, nothing else is sent; the unknown ID appears nowhere.
#[test]
fn a_create_refused_for_the_session_id_is_an_auth_error_with_no_upload_id() {
    const UNKNOWN: &str = "SID-nobody-knows-4f1c9e";
    let dir = Dir::new("vp-upload-c", "create-auth");
    let file = Local::new(&dir, "f", SIZE);
    scenario(
        "create refused",
        config,
        UPLOAD,
        |s, _| {
            let mut a = args(s, &file.path, P, &[&format!("new={STAGING}"), "start=1"]);
            a[2] = UNKNOWN.to_owned();
            a
        },
        |sim, run| {
            assert_ran(run);
            assert!(!run.stdout.contains(UNKNOWN), "({:?}) leaked:\n{}", run.mode, run.stdout);
            assert_eq!(run.field("start"), "E_AUTH");
            assert_eq!(run.field("result"), "E_AUTH");
            assert_eq!(run.field("error_type"), "INVALID_SESSION_ID");
            assert_eq!(run.field("final_id"), "-");
            assert!(events(run).is_empty());
            assert_eq!(sim.requests().len(), 1, "{:?}", sim.requests());
            assert_eq!(creates(sim), 1);
            assert!(sim.sessions().is_empty());
        },
    );
}

/// The C++ wrapper (include/vault_parts.hpp, tests-c/cxx_wrapper_upload.cpp): vault_parts::upload
/// creating a session (start() then id(), before any part), committed and waited for; a resume
/// on a client from a configured listing, part 1 sent again, part 2 kept, part 3 sent; E_CONFLICT
/// for a file of another size, E_AUTH with Vault's type for a refused create, E_ARG for bad
/// arguments and a started listing, E_CANCELLED for interrupt() before the start and from another
/// thread during a hung PUT. The server saw exactly the sessions meant to reach it.
#[test]
fn cxx_wrapper_uploads_resumes_and_throws() {
    const UNKNOWN: &str = "SID-nobody-cxx-7f3a19c2";
    let dir = Dir::new("vp-upload-c", "cxx");
    let file = Local::new(&dir, "f", SIZE);
    let conflict = Local::new(&dir, "other", SIZE + 1);
    let mut resume = vault_sim::Upload::from_file("up-cxx-res", "alice", &file.path, P, 2).unwrap();
    resume.part_fault(PartFault::WrongMd5(1));
    let resume = resume.staging_path("/u/alice/cxx-resume.bin");
    let hang = vault_sim::Upload::from_file("up-cxx-hang", "alice", &file.path, P, 0).unwrap().fault_on(
        Endpoint::Put,
        When::Request(1),
        Action::Hang,
    );
    scenario(
        "cxx wrapper",
        || Config { job_delay: Duration::from_millis(300), ..config() }.upload(resume.clone()).upload(hang.clone()),
        "tests-c/cxx_wrapper_upload.cpp",
        |s, mode| {
            let wait = if mode == Mode::Valgrind { "3000" } else { "300" };
            [s.url(), SID.into(), file.path.clone(), "up-cxx-res".into(), conflict.path.clone()]
                .into_iter()
                .chain(["up-cxx-hang".into(), wait.into(), UNKNOWN.into()])
                .collect()
        },
        |sim, run| {
            assert_ran(run);
            assert!(!run.stdout.contains(UNKNOWN) && !run.stderr.contains(UNKNOWN), "({:?}) leaked", run.mode);
            let staged = sim.staged("/u/alice/cxx-new.bin").expect("the new upload is on staging");
            assert_eq!(staged.md5().unwrap(), file.md5());
            let tail = SIZE - 2 * P;
            let want = [
                format!("new {}", staged.upload_id),
                format!("new {}", file.sent(1, "MISSING", 1)),
                format!("new {}", file.sent(2, "MISSING", 1)),
                format!("new {}", file.sent(3, "MISSING", 1)),
                format!("new summary 3 0 3 {SIZE} {SIZE} 1"),
                "conflict E_CONFLICT -".into(),
                format!("resume {}", file.sent(1, "MD5_MISMATCH", 1)),
                format!("resume {}", file.event(2, P, "OK", "KEPT", 0)),
                format!("resume {}", file.sent(3, "MISSING", 1)),
                format!("resume summary 3 1 2 {} {SIZE} 1", P + tail),
                "auth E_AUTH INVALID_SESSION_ID".into(),
                "staging_path E_ARG -".into(),
                "commit_mode E_ARG -".into(),
                "part_size E_ARG -".into(),
                "started E_ARG -".into(),
                "interrupt E_CANCELLED -".into(),
                "hang E_CANCELLED -".into(),
                "cxx_wrapper_upload: 6 events, 0 failed checks".into(),
            ];
            assert_eq!(run.stdout.lines().collect::<Vec<_>>(), want, "({:?}):\n{}", run.mode, run.stderr);

            assert_eq!(sim.staged("/u/alice/cxx-resume.bin").unwrap().md5().unwrap(), file.md5());
            let resumed = sim.session("up-cxx-res").unwrap();
            assert_eq!(resumed.put_order, [1, 3]);
            assert!(matches!(resumed.state, SessionState::Committed { .. }), "{:?}", resumed.state);
            assert_eq!(sim.session("up-cxx-hang").unwrap().put_order, [1], "interrupted during PUT 1");
            assert_eq!(sim.session("up-cxx-hang").unwrap().state, SessionState::Open);
            // One create reached the server and made a session (the refused one made none);
            // the uploads freed or stopped before their start made nothing.
            assert_eq!(creates(sim), 2, "{:?}", sim.requests());
            let mut paths: Vec<String> = sim.sessions().into_iter().map(|s| s.path).collect();
            paths.sort();
            assert_eq!(paths, ["/u/alice/cxx-new.bin", "/u/alice/cxx-resume.bin", "/u/alice/up-cxx-hang"]);
            assert!(
                sim.requests().iter().any(|r| r.header("x-vaultapi-clientid") == Some("cxx-upload-test")),
                "the resume went through the client"
            );
            for id in [staged.upload_id.as_str(), "up-cxx-res"] {
                let job = sim.job(sim.session(id).unwrap().jobs[0]).unwrap();
                assert!(job.polls.iter().all(|p| !p.refused), "({:?}) polled every 100 ms: {:?}", run.mode, job.polls);
            }
        },
    );
}
