//! Long-lived services, through the C ABI (tests-c/services.c): interrupt from another thread,
//! the listing's deadline, one client shared by many listings, and the failure details and
//! statistics a program reads. Natively, with ASan+UBSan, and under valgrind.

mod harness;

use harness::{program_for, run, Mode, Run};
use std::net::TcpListener;
use std::path::PathBuf;
use std::time::Duration;
use vault_sim::tls::TestCa;
use vault_sim::{Action, Config, Sim, Upload, When};

const ALICE: &str = "SID-alice-5be1c0ffee42";
const BOB: &str = "SID-bob-77d0aa";
const SERVICES: &str = "tests-c/services.c";

fn users() -> Config {
    Config::default().user(ALICE, "alice", false).user(BOB, "bob", false)
}

fn with(upload: Upload) -> impl Fn() -> Config {
    move || users().upload(upload.clone())
}

fn args(mode: &str, sim: &Sim, upload: &str, options: &[&str]) -> Vec<String> {
    let mut a = vec![mode.to_owned(), sim.url(), ALICE.to_owned(), upload.to_owned()];
    a.extend(options.iter().map(|s| s.to_string()));
    a
}

/// harness::scenario for services.c, with its times (interrupt_after, deadline) stretched 10x
/// under valgrind, which runs the program 20-50x slower: a 300 ms interrupt would otherwise
/// land before the first request is sent. `https` leaves valgrind out: it reports ring's
/// assembly-encrypted TLS records as uninitialised bytes passed to send().
fn scenario(config: impl Fn() -> Config, args: impl Fn(&Sim) -> Vec<String>, check: impl Fn(&Sim, &Run)) {
    each_mode(true, config, args, check)
}

fn each_mode(
    valgrind: bool,
    config: impl Fn() -> Config,
    args: impl Fn(&Sim) -> Vec<String>,
    check: impl Fn(&Sim, &Run),
) {
    for mode in Mode::all().into_iter().filter(|m| valgrind || *m != Mode::Valgrind) {
        let exe = program_for(SERVICES, mode == Mode::Sanitized);
        let sim = Sim::start(config()).expect("vault-sim starts");
        let run = run(mode, &exe, &stretch(mode, args(&sim)), &[]);
        assert!(!(mode == Mode::Valgrind && run.code == 99), "valgrind found errors or leaks:\n{}", run.stderr);
        assert!(
            !(mode == Mode::Sanitized && (run.code == 98 || run.stderr.contains("Sanitizer"))),
            "the sanitizers reported a problem:\n{}",
            run.stderr
        );
        check(&sim, &run);
    }
}

fn stretch(mode: Mode, args: Vec<String>) -> Vec<String> {
    if mode != Mode::Valgrind {
        return args;
    }
    args.into_iter()
        .map(|a| match a.split_once('=') {
            Some((key @ ("interrupt_after" | "deadline"), ms)) => format!("{key}={}", ms.parse::<u64>().unwrap() * 10),
            _ => a,
        })
        .collect()
}

/// The deadline a run was given (stretched under valgrind).
fn deadline_ms(mode: Mode, ms: f64) -> f64 {
    if mode == Mode::Valgrind {
        ms * 10.0
    } else {
        ms
    }
}

fn assert_ran(run: &Run) {
    assert_eq!(run.code, 0, "services.c failed ({:?}):\n{}{}", run.mode, run.stdout, run.stderr);
    assert!(!run.stdout.contains(ALICE) && !run.stdout.contains(BOB), "a session ID leaked:\n{}", run.stdout);
}

/// How soon after the interrupt a blocked call must return: 100 ms, as the API promises; under
/// valgrind, which runs the library 20-50x slower, 2 s.
fn latency_bound(mode: Mode) -> f64 {
    match mode {
        Mode::Valgrind => 2000.0,
        Mode::Native | Mode::Sanitized => 100.0,
    }
}

/// Interrupted 300 ms into a blocked vault_parts_next: E_CANCELLED within the bound, sticky.
fn assert_cancelled(run: &Run, requests: usize, sim: &Sim) {
    assert_ran(run);
    assert_eq!(run.field("result"), "E_CANCELLED", "{}", run.stdout);
    let latency: f64 = run.field("latency_ms").parse().unwrap();
    assert!(latency >= 0.0, "next returned before the interrupt:\n{}", run.stdout);
    assert!(latency < latency_bound(run.mode), "returned {latency} ms after the interrupt ({:?})", run.mode);
    assert_eq!(run.field("again"), "E_CANCELLED");
    assert_eq!(run.field("errcode"), "E_CANCELLED");
    assert!(run.field("errmsg").ends_with(": interrupted"), "{}", run.stdout);
    assert_eq!(sim.requests().len(), requests, "{:#?}", sim.requests());
}

#[test]
fn an_interrupt_stops_a_wait_for_a_server_that_never_answers() {
    let u = Upload::new("hung", "alice", 3).fault(When::Always, Action::Hang);
    scenario(
        with(u),
        |s| args("cancel", s, "hung", &["interrupt_after=300"]),
        |sim, run| {
            assert_cancelled(run, 1, sim);
            assert_eq!(run.field("http_status"), "0");
            assert_eq!(run.field("requests"), "1");
            assert_eq!(run.field("connections"), "1");
        },
    );
}

#[test]
fn an_interrupt_stops_a_body_that_stalls_midway() {
    let u = Upload::new("slow", "alice", 3).fault(When::Always, Action::SlowBody(Duration::from_secs(30)));
    scenario(
        with(u),
        |s| args("cancel", s, "slow", &["interrupt_after=300"]),
        |sim, run| {
            assert_cancelled(run, 1, sim);
            assert_eq!(run.field("http_status"), "200", "the head arrived before the body stalled");
            assert_eq!(run.field("pages"), "0");
        },
    );
}

#[test]
fn an_interrupt_stops_a_thirty_second_retry_after_wait() {
    let u = Upload::new("busy", "alice", 3)
        .fault(When::Always, Action::Status { code: 503, body: String::new(), retry_after: Some(30) });
    scenario(
        with(u),
        |s| args("cancel", s, "busy", &["interrupt_after=300", "backoff=250,60000", "attempts=3"]),
        |sim, run| {
            assert_cancelled(run, 1, sim);
            assert_eq!(run.field("http_status"), "503");
            assert_eq!(run.field("retry_after_ms"), "30000", "the wait the server asked for stays readable");
            assert_eq!(run.field("retries"), "0", "the interrupted wait never led to a retry");
        },
    );
}

fn ca_file(ca: &TestCa, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vault_parts_services_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, ca.pem()).unwrap();
    path
}

#[test]
fn an_interrupt_stops_a_tls_handshake_that_never_completes() {
    let ca = TestCa::new("services handshake CA");
    let pem = ca_file(&ca, "handshake.pem");
    // Accepts and stays silent: the client's ClientHello is never answered.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    for mode in Mode::all() {
        let exe = program_for(SERVICES, mode == Mode::Sanitized);
        let a = ["cancel", &url, ALICE, "up", "interrupt_after=300", &format!("ca={}", pem.display())];
        let run = run(mode, &exe, &stretch(mode, a.map(str::to_owned).to_vec()), &[]);
        assert_ran(&run);
        assert_eq!(run.field("result"), "E_CANCELLED", "{}", run.stdout);
        let latency: f64 = run.field("latency_ms").parse().unwrap();
        assert!((0.0..latency_bound(mode)).contains(&latency), "{latency} ms after the interrupt ({mode:?})");
        assert_eq!(run.field("again"), "E_CANCELLED");
        assert_eq!(run.field("connections"), "1");
        assert_eq!(run.field("http_status"), "0");
    }
}

/// 1,000 fresh handles, each interrupted while a thread starts listing on it (at every point
/// of the call: before it, connecting, reading); under valgrind 100, as it runs ~30x slower.
/// Every round ends E_CANCELLED (or DONE when the listing won), the same on the next call,
/// without a crash, a sanitizer report or a leak.
#[test]
fn a_thousand_interrupts_race_next_on_fresh_handles() {
    let u = Upload::new("race", "alice", 3);
    for mode in Mode::all() {
        let exe = program_for(SERVICES, mode == Mode::Sanitized);
        let sim = Sim::start(with(u.clone())()).unwrap();
        let rounds = if mode == Mode::Valgrind { "100" } else { "1000" };
        let run = run(mode, &exe, &args("race", &sim, "race", &[rounds]), &[]);
        assert!(!(mode == Mode::Valgrind && run.code == 99), "valgrind: {}", run.stderr);
        assert!(!run.stderr.contains("Sanitizer"), "{}", run.stderr);
        assert_ran(&run);
        let cancelled: u64 = run.field("cancelled").parse().unwrap();
        let done: u64 = run.field("done").parse().unwrap();
        assert_eq!(cancelled + done, rounds.parse::<u64>().unwrap(), "{}", run.stdout);
        assert_eq!(run.field("other"), "0");
        assert!(cancelled > 0, "no interrupt landed inside a call:\n{}", run.stdout);
    }
}

#[test]
fn the_deadline_ends_a_listing_stuck_on_a_hung_server() {
    let u = Upload::new("hung", "alice", 3).fault(When::Always, Action::Hang);
    scenario(
        with(u),
        |s| args("run", s, "hung", &["deadline=400", "timeout=60000"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_TIMEOUT", "{}", run.stdout);
            assert!(run.field("errmsg").contains("deadline was reached"), "{}", run.stdout);
            let elapsed: f64 = run.field("elapsed_ms").parse().unwrap();
            let deadline = deadline_ms(run.mode, 400.0);
            let bound = deadline + run.mode.slack().as_millis() as f64;
            assert!((deadline..bound).contains(&elapsed), "{elapsed} ms for a {deadline} ms deadline");
            assert_eq!(sim.requests().len(), 1, "the deadline is not retried");
        },
    );
}

#[test]
fn a_retry_wait_past_the_deadline_is_not_started() {
    let u = Upload::new("busy", "alice", 3)
        .fault(When::Always, Action::Status { code: 503, body: String::new(), retry_after: Some(30) });
    scenario(
        with(u),
        // 2.9 s, stretched to 29 s under valgrind: still short of the 30 s wait.
        |s| args("run", s, "busy", &["deadline=2900", "backoff=250,60000", "attempts=3"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_TIMEOUT", "{}", run.stdout);
            let errmsg = run.field("errmsg");
            assert!(errmsg.contains("deadline was reached") && errmsg.contains("30000 ms"), "{errmsg}");
            assert!(errmsg.contains("HTTP 503"), "the failure that led to the wait is named: {errmsg}");
            let elapsed: f64 = run.field("elapsed_ms").parse().unwrap();
            let deadline = deadline_ms(run.mode, 2900.0);
            assert!(elapsed < deadline, "{elapsed} ms: the 30 s wait (or the deadline) was waited out");
            assert_eq!(sim.requests().len(), 1);
            assert_eq!(run.field("retry_after_ms"), "30000");
            assert_eq!(run.field("http_status"), "503");
        },
    );
}

#[test]
fn details_and_statistics_of_a_listing_that_was_retried() {
    let u = Upload::new("flaky", "alice", 25)
        .fault(When::Request(1), Action::Status { code: 503, body: String::new(), retry_after: None });
    scenario(
        with(u),
        |s| args("run", s, "flaky", &["backoff=1,1"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "DONE", "{}", run.stdout);
            assert_eq!(run.field("http_status_before"), "0");
            assert_eq!(run.field("parts"), "25");
            assert_eq!(run.field("http_status"), "200");
            assert_eq!(run.field("retry_after_ms"), "-1");
            assert_eq!(run.field("requests"), "2");
            assert_eq!(run.field("retries"), "1");
            assert_eq!(run.field("pages"), "1");
            assert_eq!(run.field("connections"), sim.connections().to_string());
            let bytes: u64 = run.field("bytes_received").parse().unwrap();
            // Deterministic: the 503's head and the one page of 25 parts (no date, no port in
            // either), heads included; the same in every mode.
            assert_eq!(bytes, 2550, "bytes received for the 503 and a page of 25 parts ({:?})", run.mode);
            assert_eq!(sim.requests().len(), 2);
        },
    );
}

#[test]
fn a_rate_limit_reports_the_wait_the_server_asked_for() {
    let u = Upload::new("limited", "alice", 3)
        .fault(When::Always, Action::Status { code: 429, body: String::new(), retry_after: Some(7) });
    scenario(
        with(u),
        |s| args("run", s, "limited", &["backoff=1,1", "attempts=2"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_RATE_LIMIT", "{}", run.stdout);
            assert_eq!(run.field("http_status"), "429");
            assert_eq!(run.field("retry_after_ms"), "7000");
            assert_eq!(run.field("requests"), "2");
            assert_eq!(run.field("retries"), "1");
            assert_eq!(run.field("pages"), "0");
            assert_eq!(sim.requests().len(), 2);
        },
    );
}

fn client_args(sim: &Sim, upload: &str, count: usize, options: &[&str]) -> Vec<String> {
    let mut a = args("client", sim, upload, &[&count.to_string()]);
    a.extend(options.iter().map(|s| s.to_string()));
    a
}

#[test]
fn twenty_listings_on_one_client_open_one_connection() {
    let u = Upload::new("one-page", "alice", 3);
    scenario(
        with(u),
        |s| client_args(s, "one-page", 20, &[]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("listings_done"), "20");
            assert_eq!(run.field("parts"), "60");
            assert_eq!(sim.requests().len(), 20);
            assert_eq!(sim.connections(), 1, "every listing reused the client's connection");
            assert_eq!(run.field("connections"), "1", "the listings' stats add up to the one connection");
            assert_eq!(run.field("first_connections"), "1");
        },
    );
}

/// Over HTTPS (natively and with ASan+UBSan; see `scenario` for valgrind) the later listings reuse the first one's connection, so the simulator sees one
/// full handshake and no other (neither full nor resumed).
#[test]
fn twenty_listings_over_https_share_one_tls_handshake() {
    let ca = TestCa::new("services client CA");
    let pem = ca_file(&ca, "client.pem");
    let ca_opt = format!("ca={}", pem.display());
    let identity = ca.identity(&["127.0.0.1"]);
    let config = move || {
        let mut c = users().upload(Upload::new("one-page", "alice", 3));
        c.tls = Some(identity.clone());
        c
    };
    each_mode(
        false,
        config,
        |s| client_args(s, "one-page", 20, &[&ca_opt]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("listings_done"), "20");
            assert_eq!(sim.connections(), 1);
            assert_eq!(sim.tls_handshakes(), (1, 0), "one full handshake, then the connection is reused");
        },
    );
    // Without reuse (no idle connection kept) every later listing resumes the TLS session.
    let identity = ca.identity(&["127.0.0.1"]);
    let config = move || {
        let mut c = users().upload(Upload::new("one-page", "alice", 3));
        c.tls = Some(identity.clone());
        c
    };
    each_mode(
        false,
        config,
        |s| client_args(s, "one-page", 20, &[&ca_opt, "idle=0"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("listings_done"), "20");
            assert_eq!(sim.connections(), 20);
            assert_eq!(sim.tls_handshakes(), (1, 19), "later connections resume the first session");
        },
    );
}

#[test]
fn sixteen_threads_list_at_once_on_one_client() {
    let u = Upload::new("shared", "alice", 5);
    scenario(
        with(u),
        |s| client_args(s, "shared", 64, &["threads=16", "idle=16", "attempts=1"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("listings_done"), "64");
            assert_eq!(run.field("parts"), "320");
            assert_eq!(sim.requests().len(), 64);
            assert!(sim.connections() <= 16, "{} connections for 16 threads", sim.connections());
            assert_eq!(run.field("connections"), sim.connections().to_string());
        },
    );
}

#[test]
fn listings_outlive_a_client_freed_before_them() {
    let u = Upload::new("orphans", "alice", 4);
    scenario(
        with(u),
        |s| client_args(s, "orphans", 5, &["free_first=1"]),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("listings_done"), "5");
            assert_eq!(run.field("parts"), "20");
            assert_eq!(sim.connections(), 1);
        },
    );
}

#[test]
fn two_listings_on_one_client_each_send_only_their_own_session_id() {
    let config = || users().upload(Upload::new("up-a", "alice", 3)).upload(Upload::new("up-b", "bob", 2));
    scenario(
        config,
        |s| ["two", &s.url(), ALICE, "up-a", BOB, "up-b"].map(str::to_owned).to_vec(),
        |sim, run| {
            assert_ran(run);
            assert_eq!(run.field("result_a"), "DONE", "{}", run.stdout);
            assert_eq!(run.field("result_b"), "DONE");
            assert_eq!((run.field("parts_a"), run.field("parts_b")), ("3", "2"));
            let requests = sim.requests();
            assert_eq!(requests.len(), 5, "3 pages for a, 2 for b, at one part a page");
            assert_eq!(sim.connections(), 1, "both listings used the one pooled connection");
            for r in &requests {
                let own = if r.path.contains("/up-a/") { ALICE } else { BOB };
                assert_eq!(r.header("authorization"), Some(own), "{} {}", r.path, r.query);
            }
        },
    );
}

/// The verifier's interrupt stops the listing it owns (here stuck on a hung server).
#[test]
fn a_verifier_interrupt_stops_its_listing() {
    let file = std::env::temp_dir().join(format!("vault_parts_services_verify_{}", std::process::id()));
    std::fs::write(&file, vec![7u8; 3 * 1024 * 1024]).unwrap();
    let path = file.display().to_string();
    let u = Upload::new("hung", "alice", 3).declared_size(3 * 1024 * 1024).fault(When::Always, Action::Hang);
    scenario(
        with(u),
        |s| args("verify_cancel", s, "hung", &[&path, "interrupt_after=300"]),
        |_, run| {
            assert_ran(run);
            assert_eq!(run.field("result"), "E_CANCELLED", "{}", run.stdout);
            let latency: f64 = run.field("latency_ms").parse().unwrap();
            assert!((0.0..latency_bound(run.mode)).contains(&latency), "{latency} ms ({:?})", run.mode);
            assert_eq!(run.field("again"), "E_CANCELLED");
            assert!(run.field("errmsg").contains("interrupted"), "{}", run.stdout);
        },
    );
    std::fs::remove_file(&file).unwrap();
}
