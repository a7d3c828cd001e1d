//! vault_parts_open_sessions / vault_parts_sessions_next / vault_parts_abort through the C ABI:
//! tests-c/sessions.c against vault-sim holding two sessions of the user; natively, with
//! ASan+UBSan, and under valgrind.

mod harness;

use harness::scenario;
use vault_sim::{Config, SimPart, Upload};

const SID: &str = "SID-sessions-c-7a41c0de";

fn part(n: u32) -> SimPart {
    SimPart { number: n, size: 5 << 20, md5: Some(format!("{n:032x}")) }
}

#[test]
fn sessions_are_listed_and_one_is_aborted() {
    let config = || {
        Config::default()
            .user(SID, "alice", false)
            .upload(Upload::with_parts("up-abort-me", "alice", vec![part(1), part(2)]))
            .upload(Upload::with_parts("up-keep-me", "alice", vec![part(1)]))
    };
    scenario(
        config,
        "tests-c/sessions.c",
        |s| vec![s.url(), SID.to_owned(), "up-abort-me".to_owned(), "up-keep-me".to_owned()],
        |_, run| {
            assert_eq!(run.code, 0, "({:?}):\n{}{}", run.mode, run.stdout, run.stderr);
            assert!(run.stdout.contains("sessions: 0 failed checks"), "({:?}): {}", run.mode, run.stdout);
            assert!(run.stdout.contains("session up-abort-me "), "({:?}): {}", run.mode, run.stdout);
        },
    );
}
