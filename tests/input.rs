//! What the library takes from its caller, through the C ABI: vault_parts_open's argument
//! rules (tests-c/args.c: maximum and minimum lengths, hosts no URL can reach, other spellings
//! of a usable origin, swapped arguments), the trust-store setters' file reads (regular files
//! only, never blocking, capped), and the session ID redacted in every spelling a server
//! echoes it in (tests-c/list.c against a raw server), each natively, with ASan+UBSan and
//! under valgrind.

mod harness;
mod spellings;

use harness::files::Dir;
use harness::raw::{ok, response, Answer, RawServer};
use harness::{program, program_for, run, Mode, Run};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use vault_sim::tls::TestCa;

/// Mirrors VAULT_PARTS_MAX_CA_FILE_SIZE (args.c checks the header's value).
const MAX_CA_FILE_SIZE: usize = 1 << 20;

/// The files tests-c/args.c reads as CA files: a FIFO, one byte over the cap, a certificate
/// padded to the cap exactly. One directory per test (`name`): tests run in parallel threads of
/// one process, and a shared one made the second mkfifo fail with EEXIST.
fn ca_dir(name: &str) -> Dir {
    let dir = Dir::new("vp-input", name);
    let fifo = std::ffi::CString::new(dir.0.join("fifo").to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo");
    let mut exact = TestCa::new("vp-input CA").pem().as_bytes().to_vec();
    exact.resize(MAX_CA_FILE_SIZE, b'\n');
    std::fs::write(dir.0.join("exact.pem"), &exact).unwrap();
    exact.push(b'\n');
    std::fs::write(dir.0.join("big.pem"), &exact).unwrap();
    dir
}

#[test]
fn open_enforces_lengths_and_host_rules_and_ca_files_are_bounded() {
    let dir = ca_dir("ca-args");
    for mode in Mode::all() {
        let exe = program_for("tests-c/args.c", mode == Mode::Sanitized);
        let r = run(mode, &exe, &[dir.0.display().to_string()], &[]);
        assert_eq!(r.code, 0, "{mode:?}:\n{}{}", r.stdout, r.stderr);
        assert_eq!(r.stdout, "args: 0 failed checks\n", "{mode:?}");
        assert!(!r.stderr.contains("Sanitizer"), "{mode:?}: {}", r.stderr);
    }
}

/// Session IDs with a space, `+ / = % " \`, without and with a bearer scheme in odd letter
/// cases (and several spaces after it).
const SECRETS: [&str; 3] = [
    r#"Q7 "w\e9+Rt/Y2=uI8%oP4aS6dF1gH3jK5"#,
    r#"bearer Zx8 "k\q+/=%Tm3Lp9Wv2Rn7Hs4"#,
    r#"BeArEr   Kp4+Lm7/Qr2=Tv9%Wx3"Yz6\Ab1"#,
];

/// Where the server echoes the spelling: Vault's error message and type, a next_page link on
/// this origin and on another, a redirect's Location.
const PLACES: [&str; 5] = ["message", "type", "link", "elsewhere", "redirect"];

/// Answers "/api/.../upload/{place}-{secret}-{spelling}/parts" by echoing that spelling of that
/// secret in that place; a followed link or redirect gets a 404.
fn echo_server() -> RawServer {
    let answer: Answer = Arc::new(|_, target| {
        let Some(id) = target.split("/upload/").nth(1).and_then(|rest| rest.split('/').next()) else {
            return (Duration::ZERO, response("404 Not Found", &[], ""));
        };
        let mut fields = id.splitn(3, '-');
        let (place, secret, spelling) = (fields.next().unwrap(), fields.next().unwrap(), fields.next().unwrap());
        let secret = SECRETS[secret.parse::<usize>().unwrap()];
        let text = spellings::spellings(secret).into_iter().find(|(name, _)| name == spelling).unwrap().1;
        let failure = |kind: &str, message: &str| {
            ok(&json!({"responseStatus": "FAILURE", "errors": [{"type": kind, "message": message}]}).to_string())
        };
        let page = |next: String| {
            ok(&json!({"responseStatus": "SUCCESS", "responseDetails": {"next_page": next}, "data": []}).to_string())
        };
        let bytes = match place {
            "message" => failure("INVALID_DATA", &format!("echo {text} end")),
            "type" => failure(&text, "m"),
            "link" => page(format!("/p?sid={text}")),
            "elsewhere" => page(format!("http://127.0.0.2:9/?sid={text}")),
            _ => response("302 Found", &[format!("Location: /r?sid={text}")], ""),
        };
        (Duration::ZERO, bytes)
    });
    RawServer::start(answer)
}

fn list(mode: Mode, server: &RawServer, secret: usize, place: &str, spelling: &str) -> Run {
    let exe = program_for("tests-c/list.c", mode == Mode::Sanitized);
    let args = [server.url(), SECRETS[secret].to_owned(), format!("{place}-{secret}-{spelling}")];
    let args: Vec<String> = args.into_iter().chain(["attempts=1", "log=1"].map(String::from)).collect();
    run(mode, &exe, &args, &[])
}

/// The places the sanitizer and valgrind runs (slow per process) cover: Vault's text, and a
/// URL fetched and logged.
const SLOW_MODE_PLACES: [&str; 2] = ["message", "link"];

/// Every spelling of each secret, echoed in every place, leaves no 12-character piece of any
/// spelling in errmsg, error_type or a log line. Natively every combination; with the
/// sanitizers and valgrind one percent-encoded spelling in SLOW_MODE_PLACES.
#[test]
fn echoed_spellings_of_the_session_id_are_redacted() {
    let server = echo_server();
    let mut runs = 0;
    for mode in Mode::all() {
        for (secret, sid) in SECRETS.iter().enumerate() {
            for (spelling, _) in spellings::spellings(sid) {
                if mode != Mode::Native && spelling != "id-pct-lower" {
                    continue;
                }
                for place in PLACES {
                    if mode != Mode::Native && !SLOW_MODE_PLACES.contains(&place) {
                        continue;
                    }
                    let r = list(mode, &server, secret, place, &spelling);
                    let what = format!("{mode:?} {place} {spelling} of {sid:?}");
                    assert_eq!(r.code, 0, "{what}:\n{}{}", r.stdout, r.stderr);
                    assert!(r.stdout.contains("result E_"), "{what}: the listing fails:\n{}", r.stdout);
                    // Vault's error text is shown whole; a refused link may be left out instead.
                    if place == "message" || place == "type" {
                        assert!(r.stdout.contains("[redacted]"), "{what}: nothing redacted:\n{}", r.stdout);
                    }
                    if let Some(leak) = spellings::leak(&format!("{}{}", r.stdout, r.stderr), sid) {
                        panic!("{what}: {leak} in\n{}{}", r.stdout, r.stderr);
                    }
                    runs += 1;
                }
            }
        }
    }
    let per_secret = spellings::spellings(SECRETS[0]).len() + 2 * spellings::spellings(SECRETS[1]).len();
    let other_modes = Mode::all().len() - 1;
    let expected = PLACES.len() * per_secret + other_modes * SECRETS.len() * SLOW_MODE_PLACES.len();
    assert_eq!(runs, expected, "every combination ran");
}

/// The tool's --ca-file and --add-ca-file read through the same bounded reader: a FIFO and
/// /dev/zero are a usage error (64) at once, with the library's reason.
#[test]
fn the_tool_refuses_unbounded_ca_files() {
    let dir = ca_dir("ca-tool");
    let fifo = dir.0.join("fifo").display().to_string();
    for (flag, path, needle) in [
        ("--ca-file", fifo.as_str(), "is not a regular file"),
        ("--add-ca-file", "/dev/zero", "is not a regular file"),
        ("--ca-file", dir.0.join("big.pem").to_str().unwrap(), "is larger than 1048576 bytes"),
    ] {
        let args: Vec<String> = ["list", flag, path, "u1"].map(String::from).to_vec();
        let env = [("VAULT_URL", "https://v.example"), ("VAULT_SESSION_ID", SECRETS[0])];
        // Under timeout(1): a tool blocked on the FIFO fails the test instead of hanging it.
        let tool = program("tools/vault-parts.c").display().to_string();
        let args: Vec<String> = ["60".to_owned(), tool].into_iter().chain(args).collect();
        let r = run(Mode::Native, Path::new("timeout"), &args, &env);
        assert_eq!(r.code, 64, "{flag} {path}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{flag} {path}: {}", r.stderr);
    }
}

/// The tool's usage errors never repeat the session ID pasted in the wrong place, in the
/// caller's spelling or as the bare token of a bearer scheme in any letter case.
#[test]
fn the_tool_never_quotes_the_token_of_a_bearer_session_id() {
    for sid in &SECRETS[1..] {
        let token = spellings::token(sid).unwrap();
        for args in [vec!["verify", "u1", "file", token], vec!["list", &format!("--limit={token}"), "u1"]] {
            let args: Vec<String> = args.into_iter().map(String::from).collect();
            let env = [("VAULT_URL", "https://v.example"), ("VAULT_SESSION_ID", *sid)];
            let r = run(Mode::Native, &program("tools/vault-parts.c"), &args, &env);
            assert_eq!(r.code, 64, "{args:?}: {}", r.stderr);
            assert!(r.stderr.contains("[redacted]"), "{args:?}: {}", r.stderr);
            assert_eq!(spellings::leak(&r.stderr, sid), None, "{args:?}: {}", r.stderr);
        }
    }
}
