//! The installed command-line tool, tools/vault-parts.c, over the public C API: subcommands,
//! both option spellings, exit statuses, output shape, and the three trust-store paths
//! (--ca-file, --add-ca-file, --system-roots with SSL_CERT_FILE / SSL_CERT_DIR) against a CA
//! made at test time. The C89 header check lives here too.

mod harness;

use harness::files::Dir;
use harness::{lib_dir, program, program_for, run, Mode, Run};
use std::path::PathBuf;
use std::process::Command;
use vault_sim::file_upload::parts_of_file;
use vault_sim::tls::TestCa;
use vault_sim::{Config, PartFault, Sim, Upload};

const ALICE: &str = "SID-alice-5be0c4d1a9";
const BOB: &str = "SID-bob-77e2";
const TOOL: &str = "tools/vault-parts.c";

fn sim(parts: u32) -> Sim {
    let config = Config::default()
        .user(ALICE, "alice", false)
        .user(BOB, "bob", false)
        .upload(Upload::new("ex", "alice", parts))
        .upload(Upload::new("one", "alice", 1))
        .upload(Upload::new("none", "alice", 0));
    Sim::start(config).unwrap()
}

fn tool(args: &[&str], env: &[(&str, &str)]) -> Run {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run(Mode::Native, &program(TOOL), &args, env)
}

fn list(sim: &Sim, sid: &str, args: &[&str]) -> Run {
    let url = sim.url();
    let mut all = vec!["list"];
    all.extend_from_slice(args);
    tool(&all, &[("VAULT_URL", &url), ("VAULT_SESSION_ID", sid)])
}

fn row(upload: &str, n: u32, size: u64) -> String {
    format!("{n:8} {size:14}  {}\n", vault_sim::md5_for(upload, n))
}

#[test]
fn list_prints_a_table_with_a_header_only_when_there_is_a_part() {
    let sim = sim(3);
    let ok = list(&sim, ALICE, &["--limit", "2", "ex"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    let expected = format!(
        "    part           size  md5\n{}{}{}3 parts, 15728640 bytes\n",
        row("ex", 1, 5242880),
        row("ex", 2, 5242880),
        row("ex", 3, 5242880)
    );
    assert_eq!(ok.stdout, expected);
    assert_eq!(ok.stderr, "");
    assert_eq!(sim.requests().len(), 2);

    let one = list(&sim, ALICE, &["one"]);
    assert_eq!(one.stdout, format!("    part           size  md5\n{}1 part, 5242880 bytes\n", row("one", 1, 5242880)));
    let none = list(&sim, ALICE, &["none"]);
    assert_eq!((none.code, none.stdout.as_str()), (0, "0 parts, 0 bytes\n"));
}

#[test]
fn options_take_values_both_ways() {
    let sim = sim(3);
    let before = sim.requests().len();
    let r = list(
        &sim,
        ALICE,
        &[
            "--limit=1",
            "--client-id=acme-tool",
            "--api-version",
            "v24.1",
            "--timeout=5",
            "--max-attempts",
            "2",
            "--json",
            "ex",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first = format!(r#"{{"part_number":1,"size":5242880,"part_content_md5":"{}"}}"#, vault_sim::md5_for("ex", 1));
    assert_eq!(r.stdout.lines().next(), Some(first.as_str()));
    assert_eq!(r.stdout.lines().count(), 3, "JSON mode prints parts only:\n{}", r.stdout);
    let requests = &sim.requests()[before..];
    assert_eq!(requests.len(), 3, "--limit=1 gives one page per part");
    assert!(requests.iter().all(|q| q.header("x-vaultapi-clientid") == Some("acme-tool")));
    assert!(requests[0].path.starts_with("/api/v24.1/"), "{}", requests[0].path);
}

#[test]
fn usage_errors_exit_64_and_name_the_problem() {
    let sim = sim(3);
    for (args, needle) in [
        (&["--bogus", "ex"][..], "unknown option '--bogus'"),
        (&["--limit=0", "ex"], "--limit takes a number from 1 to 1000, not '0'"),
        (&["--limit", "ten", "ex"], "not 'ten'"),
        (&["--timeout=-1", "ex"], "--timeout takes seconds"),
        (&["--max-attempts=0", "ex"], "--max-attempts"),
        (&["--json=yes", "ex"], "option '--json=yes' takes no value"),
        (&["ex", "extra"], "'extra' is extra"),
        (&["--limit"], "option '--limit' needs a value"),
        (&[], "the upload session ID is missing"),
        (&[""], "the upload session ID is missing"),
        (&["--ca-file=/a.pem", "--system-roots", "ex"], "choose one of"),
        (&["--ca-file", "/nonexistent.pem", "ex"], "cannot be read"),
        (&["--api-version", "25", "ex"], "25"),
        (&["a/b"], "upload_session_id"),
    ] {
        let r = list(&sim, ALICE, args);
        assert_eq!(r.code, 64, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
    }
    assert_eq!(sim.requests().len(), 0, "no usage error reaches the network");
    let url = sim.url();
    let env = [("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)];
    for (args, needle) in [
        (&[][..], "a command is missing"),
        (&["lst", "ex"], "unknown command 'lst'"),
        (&["--limit=2", "list", "ex"], "unknown option '--limit=2'"),
    ] {
        let r = tool(args, &env);
        assert_eq!(r.code, 64, "{args:?}");
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    // The session ID pasted where another argument belongs is not repeated.
    for args in [&["ex", ALICE][..], &[&format!("--limit={ALICE}"), "ex"], &[&format!("--x{ALICE}y"), "ex"]] {
        let r = list(&sim, ALICE, args);
        assert_eq!(r.code, 64, "{args:?}");
        assert!(!r.stderr.contains(ALICE) && r.stderr.contains("[redacted]"), "{args:?}: {}", r.stderr);
    }
    let no_env = tool(&["list", "ex"], &[("VAULT_URL", ""), ("VAULT_SESSION_ID", ALICE)]);
    assert_eq!(no_env.code, 64);
    assert!(no_env.stderr.contains("VAULT_URL is not set"), "{}", no_env.stderr);
}

#[test]
fn help_and_version() {
    for args in [&["--help"][..], &["list", "--help"], &["help"]] {
        let r = tool(args, &[]);
        assert_eq!(r.code, 0, "{args:?}");
        assert!(r.stdout.starts_with("usage: vault-parts COMMAND"), "{}", r.stdout);
        assert!(r.stdout.contains("a bare HOST means https"), "{}", r.stdout);
        assert!(r.stdout.contains("http:// is accepted only for loopback hosts"), "{}", r.stdout);
        for flag in [
            "--limit",
            "--json",
            "--timeout",
            "--max-attempts",
            "--api-version",
            "--client-id",
            "--ca-file",
            "--verbose",
        ] {
            assert!(r.stdout.contains(flag), "help lacks {flag}");
        }
    }
    let v = tool(&["--version"], &[]);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(v.stdout, format!("vault-parts {version} (libvault_parts {version})\n"));
}

#[test]
fn failures_exit_by_class_with_the_final_error_printed_once() {
    let sim = sim(3);
    let denied = list(&sim, BOB, &["ex"]);
    assert_eq!(denied.code, 13, "{}", denied.stderr);
    assert_eq!(denied.stdout, "", "no table header without a part");
    assert_eq!(denied.stderr.lines().count(), 1, "{}", denied.stderr);
    assert!(denied.stderr.starts_with("vault-parts: access denied: "), "{}", denied.stderr);
    assert!(denied.stderr.contains("INSUFFICIENT_ACCESS"), "{}", denied.stderr);

    let verbose = list(&sim, BOB, &["--verbose", "ex"]);
    assert_eq!(verbose.code, 13);
    assert_eq!(verbose.stderr.matches("INSUFFICIENT_ACCESS").count(), 1, "{}", verbose.stderr);
    assert!(verbose.stderr.contains("vault-parts: debug: GET "), "{}", verbose.stderr);
    assert!(!verbose.stderr.contains(BOB));

    let ok = list(&sim, ALICE, &["--verbose", "one"]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
    assert!(ok.stderr.contains("vault-parts: info: page 1: 1 part, last page\n"), "{}", ok.stderr);
    assert!(ok.stderr.contains("vault-parts: info: listing complete after 1 page\n"), "{}", ok.stderr);
    assert!(!ok.stderr.contains(ALICE));
}

#[test]
fn a_url_with_userinfo_is_refused_without_echoing_the_password() {
    for url in [
        "https://me:hunter2secret@myvault.example",
        "me:hunter2secret@myvault.example",
        "http://u:hunter2secret@127.0.0.1:1/",
    ] {
        let r = tool(&["list", "ex"], &[("VAULT_URL", url), ("VAULT_SESSION_ID", ALICE)]);
        assert_eq!(r.code, 64, "{url}");
        assert!(r.stderr.contains("must not hold a user name or password"), "{}", r.stderr);
        assert!(!r.stderr.contains("hunter2"), "the password was echoed: {}", r.stderr);
    }
}

/// The tool itself is clean: built with ASan+UBSan and run under valgrind, for a listing and a
/// usage error and a Vault refusal (each path that frees the handle).
#[test]
fn the_tool_is_clean_under_sanitizers_and_valgrind() {
    let sim = sim(3);
    let url = sim.url();
    for mode in Mode::all() {
        let exe = program_for(TOOL, mode == Mode::Sanitized);
        for (args, sid, code) in [
            (&["list", "--limit=2", "ex"][..], ALICE, 0),
            (&["list", "--limit=2", "ex"], BOB, 13),
            (&["list", "--bogus"], ALICE, 64),
            (&["list", "a/b"], ALICE, 64),
            (&["sessions"], ALICE, 0),
            (&["sessions", "--json"], BOB, 0),
            (&["abort", "--json", "nope"], ALICE, 15),
            (&["sessions", "extra"], ALICE, 64),
        ] {
            if mode == Mode::Valgrind && code == 64 {
                continue; // no listing happens; the sanitized build covers these paths
            }
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let r = run(mode, &exe, &args, &[("VAULT_URL", &url), ("VAULT_SESSION_ID", sid)]);
            assert_eq!(r.code, code, "{mode:?} {args:?}:\n{}", r.stderr);
            assert!(!r.stderr.contains("Sanitizer"), "{mode:?} {args:?}:\n{}", r.stderr);
        }
    }
}

/// An HTTPS vault-sim with a CA made now, and the CA's PEM in a directory of its own.
struct Tls {
    sim: Sim,
    dir: PathBuf,
}

impl Tls {
    fn start(name: &str) -> Tls {
        let ca = TestCa::new("vault-parts CLI test CA");
        let dir = std::env::temp_dir().join(format!("vault_parts_cli_{name}_{}", std::process::id()));
        std::fs::create_dir_all(dir.join("certs")).unwrap();
        std::fs::write(dir.join("certs").join("ca.pem"), ca.pem()).unwrap();
        let mut config = Config::default().user(ALICE, "alice", false).upload(Upload::new("ex", "alice", 2));
        config.tls = Some(ca.identity(&["127.0.0.1", "localhost"]));
        Tls { sim: Sim::start(config).unwrap(), dir }
    }

    fn ca(&self) -> String {
        self.dir.join("certs").join("ca.pem").display().to_string()
    }

    fn list(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let url = self.sim.url();
        assert!(url.starts_with("https://"));
        let mut all = vec!["list"];
        all.extend_from_slice(args);
        all.push("ex");
        let mut env = env.to_vec();
        env.extend([("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)]);
        tool(&all, &env)
    }
}

impl Drop for Tls {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn an_unknown_issuer_hints_at_ca_file() {
    let tls = Tls::start("hint");
    let r = tls.list(&[], &[]);
    assert_eq!(r.code, 19, "{}", r.stderr);
    assert!(r.stderr.contains("UnknownIssuer"), "{}", r.stderr);
    assert!(r.stderr.contains("vault-parts: hint: ") && r.stderr.contains("--ca-file PEM"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);
}

#[test]
fn each_trust_path_reaches_the_run_time_ca() {
    let tls = Tls::start("trust");
    let ca = tls.ca();
    let certs_dir = tls.dir.join("certs").display().to_string();
    let empty = tls.dir.join("empty.pem").display().to_string();
    let missing = tls.dir.join("missing.pem").display().to_string();
    std::fs::write(&empty, "").unwrap();
    for (why, args, env) in [
        ("only the CA file", vec!["--ca-file", ca.as_str()], vec![]),
        ("built-in roots plus the CA", vec!["--add-ca-file", ca.as_str()], vec![]),
        (
            "SSL_CERT_FILE",
            vec!["--system-roots"],
            vec![("SSL_CERT_FILE", ca.as_str()), ("SSL_CERT_DIR", missing.as_str())],
        ),
        (
            "SSL_CERT_DIR",
            vec!["--system-roots"],
            vec![("SSL_CERT_FILE", missing.as_str()), ("SSL_CERT_DIR", certs_dir.as_str())],
        ),
    ] {
        let r = tls.list(&args, &env);
        assert_eq!(r.code, 0, "{why}: {}", r.stderr);
        assert!(r.stdout.ends_with("2 parts, 10485760 bytes\n"), "{why}: {}", r.stdout);
    }
    // The system store without the test CA (the distribution's bundle, or nothing) refuses it.
    let r = tls.list(&["--system-roots"], &[("SSL_CERT_FILE", empty.as_str()), ("SSL_CERT_DIR", missing.as_str())]);
    assert_eq!(r.code, 64, "{}", r.stderr);
    assert!(r.stderr.contains("the system's trust store is empty or unreadable"), "{}", r.stderr);
    assert_eq!(tls.sim.requests().len(), 4, "one page per successful path, none for the refused one");
}

/// The public header is C89 clean: no `//` comments, no C99-only constructs.
#[test]
fn header_compiles_as_c89_pedantic() {
    let dir = lib_dir().join("c89-check");
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("c89.c");
    std::fs::write(
        &src,
        "#include \"vault_parts.h\"\nint main(void) {\n    vault_part p;\n    p.part_number = 0;\n    \
         return vault_parts_errstr(VAULT_PARTS_OK)[0] == 'o' ? (int)p.part_number : 1;\n}\n",
    )
    .unwrap();
    let out = Command::new("cc")
        .args(["-std=c89", "-pedantic-errors", "-Wall", "-Wextra", "-Werror", "-I"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/include"))
        .arg(&src)
        .arg("-o")
        .arg(dir.join("c89"))
        .arg("-L")
        .arg(lib_dir())
        .arg("-lvault_parts")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

// ---- vault-parts verify -------------------------------------------------------------------

/// Vault's smallest part but the last: by default verify reads the part size off the listing,
/// and a part size below it is the server's error.
const PART: u64 = 5 << 20;

/// An upload owned by alice listing the first `uploaded` true parts of `path`, then `faults`.
fn file_upload(id: &str, path: &str, uploaded: u32, faults: &[PartFault]) -> Upload {
    let mut u = Upload::with_parts(id, "alice", parts_of_file(path, PART, uploaded).unwrap());
    for f in faults {
        u.part_fault(*f);
    }
    u.declared_size(std::fs::metadata(path).unwrap().len())
}

fn verify(sim: &Sim, sid: &str, args: &[&str]) -> Run {
    let url = sim.url();
    let mut all = vec!["verify"];
    all.extend_from_slice(args);
    tool(&all, &[("VAULT_URL", &url), ("VAULT_SESSION_ID", sid)])
}

const VERDICT_HEADER: &str =
    "    part  verdict           local size     Vault size  local md5                         Vault md5\n";

/// The table row verify prints for one verdict.
fn verdict_row(n: u32, status: &str, local: u64, remote: u64, local_md5: &str, remote_md5: &str) -> String {
    let dash = |s: &str| if s.is_empty() { "-".to_owned() } else { s.to_owned() };
    format!("{n:8}  {status:<13} {local:14} {remote:14}  {:<32}  {}\n", dash(local_md5), dash(remote_md5))
}

/// The true MD5 of every part of `path` (5 parts of 5 MiB and one of 100 bytes here).
fn true_md5s(path: &str) -> Vec<String> {
    parts_of_file(path, PART, 100).unwrap().into_iter().map(|p| p.md5.unwrap()).collect()
}

#[test]
fn verify_exits_by_what_uploading_would_take() {
    let files = Dir::new("vault_parts_cli_verify", "exits");
    let path = files.file("f.bin", 5 * PART + 100);
    let md5 = true_md5s(&path);
    let wrong = |n: u32| vault_sim::md5_for("wrong", n);
    let config = Config::default()
        .user(ALICE, "alice", false)
        .upload(file_upload("ready", &path, 6, &[]))
        .upload(file_upload("resume", &path, 4, &[]))
        .upload(file_upload("gap", &path, 6, &[PartFault::Missing(2)]))
        .upload(file_upload("bad", &path, 6, &[PartFault::WrongMd5(2), PartFault::WrongSize(6)]))
        .upload(file_upload("extra", &path, 6, &[PartFault::Extra(2), PartFault::WrongMd5(1)]))
        .upload(file_upload("nomd5", &path, 6, &[PartFault::NoMd5(3)]));
    let sim = Sim::start(config).unwrap();
    let all_hashed = 5 * PART + 100;

    let ready = verify(&sim, ALICE, &["ready", &path]);
    assert_eq!((ready.code, ready.stderr.as_str()), (0, ""));
    assert_eq!(ready.stdout, format!("6 parts: 6 OK; {all_hashed} bytes hashed; commit-ready\n"));

    let resume = verify(&sim, ALICE, &["resume", &path]);
    assert_eq!(resume.code, 1, "{}", resume.stderr);
    assert_eq!(
        resume.stdout,
        format!(
            "{VERDICT_HEADER}{}{}6 parts: 4 OK, 2 MISSING; {} bytes hashed; resumable: upload 2 parts: 5-6\n",
            verdict_row(5, "MISSING", PART, 0, "", ""),
            verdict_row(6, "MISSING", 100, 0, "", ""),
            4 * PART
        )
    );

    let gap = verify(&sim, ALICE, &["gap", &path]);
    assert_eq!(gap.code, 1, "a gap is resumable: {}", gap.stderr);
    assert_eq!(
        gap.stdout,
        format!(
            "{VERDICT_HEADER}{}6 parts: 5 OK, 1 MISSING; {} bytes hashed; resumable: upload 1 part: 2\n",
            verdict_row(2, "MISSING", PART, 0, "", ""),
            all_hashed - PART
        )
    );

    let bad = verify(&sim, ALICE, &["bad", &path]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(
        bad.stdout,
        format!(
            "{VERDICT_HEADER}{}{}6 parts: 4 OK, 1 SIZE_MISMATCH, 1 MD5_MISMATCH; {} bytes hashed; mismatches found: upload 2 parts: 2, 6 (2 again)\n",
            verdict_row(2, "MD5_MISMATCH", PART, PART, &md5[1], &wrong(2)),
            verdict_row(6, "SIZE_MISMATCH", 100, 101, "", &md5[5]),
            5 * PART
        )
    );

    let extra = verify(&sim, ALICE, &["extra", &path]);
    assert_eq!(extra.code, 3, "{}", extra.stderr);
    assert!(extra.stdout.contains(&verdict_row(1, "MD5_MISMATCH", PART, PART, &md5[0], &wrong(1))), "{}", extra.stdout);
    assert!(
        extra.stdout.contains(&verdict_row(8, "EXTRA", 0, 100, "", &vault_sim::md5_for("extra", 2))),
        "{}",
        extra.stdout
    );
    assert!(
        extra.stdout.ends_with(&format!(
            "8 parts: 5 OK, 1 MD5_MISMATCH, 2 EXTRA; {all_hashed} bytes hashed; not resumable: Vault lists 2 parts past the file's end\n"
        )),
        "{}",
        extra.stdout
    );

    let nomd5 = verify(&sim, ALICE, &["nomd5", &path]);
    assert_eq!(nomd5.code, 0, "nothing to upload: {}", nomd5.stderr);
    assert_eq!(
        nomd5.stdout,
        format!(
            "{VERDICT_HEADER}{}6 parts: 5 OK, 1 UNVERIFIED; {} bytes hashed; commit-ready (UNVERIFIED parts: Vault sent no MD5)\n",
            verdict_row(3, "UNVERIFIED", PART, PART, "", ""),
            all_hashed - PART
        )
    );
}

#[test]
fn verify_json_prints_one_object_per_verdict_then_the_summary() {
    let files = Dir::new("vault_parts_cli_verify", "json");
    let path = files.file("f.bin", 5 * PART + 100);
    let md5 = true_md5s(&path);
    let sim = Sim::start(Config::default().user(ALICE, "alice", false).upload(file_upload(
        "up",
        &path,
        5,
        &[PartFault::WrongMd5(3)],
    )))
    .unwrap();
    let wrong = vault_sim::md5_for("wrong", 3);
    let r = verify(&sim, ALICE, &["--json", "up", &path]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let expected = format!(
        concat!(
            r#"{{"part_number":3,"status":"MD5_MISMATCH","offset":10485760,"local_size":5242880,"remote_size":5242880,"local_md5":"{}","remote_md5":"{}"}}"#,
            "\n",
            r#"{{"part_number":6,"status":"MISSING","offset":26214400,"local_size":100,"remote_size":0,"local_md5":"","remote_md5":""}}"#,
            "\n",
            r#"{{"outcome":"mismatches","parts":6,"count":{{"OK":4,"MISSING":1,"SIZE_MISMATCH":0,"MD5_MISMATCH":1,"UNVERIFIED":0,"EXTRA":0}},"bytes_hashed":26214400,"first_to_upload":3,"resumable":true}}"#,
            "\n"
        ),
        md5[2], wrong
    );
    assert_eq!(r.stdout, expected);
    for line in r.stdout.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    }
    // --verbose: every verdict, OK ones included.
    let all = verify(&sim, ALICE, &["--json", "--verbose", "up", &path]);
    assert_eq!(all.code, 2);
    assert_eq!(all.stdout.lines().count(), 7, "{}", all.stdout);
    assert!(all.stdout.starts_with(&format!(
        r#"{{"part_number":1,"status":"OK","offset":0,"local_size":5242880,"remote_size":5242880,"local_md5":"{0}","remote_md5":"{0}"}}"#,
        md5[0]
    )));
}

#[test]
fn verify_flags_reach_the_library() {
    let files = Dir::new("vault_parts_cli_verify", "flags");
    let path = files.file("f.bin", 5 * PART + 100);
    let sim =
        Sim::start(Config::default().user(ALICE, "alice", false).upload(file_upload("up", &path, 6, &[]))).unwrap();

    // --limit pages the listing; --threads and --part-size are taken; --verbose prints every
    // part and logs on stderr.
    let r = verify(
        &sim,
        ALICE,
        &["--limit=2", "--threads", "1", "--part-size=5242880", "--client-id", "cli-verify", "--verbose", "up", &path],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with(VERDICT_HEADER), "{}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 8, "header, 6 parts, summary:\n{}", r.stdout);
    assert!(r.stderr.contains("vault-parts: info: listing complete after 3 pages\n"), "{}", r.stderr);
    assert!(!r.stderr.contains(ALICE));
    let requests = sim.requests();
    assert_eq!(requests.len(), 4, "the details, then --limit=2: 6 parts in 3 pages");
    assert!(requests.iter().all(|q| q.header("x-vaultapi-clientid") == Some("cli-verify")));

    // A part size that contradicts the listed sizes: SIZE_MISMATCH verdicts, exit 2.
    let wrong_size = verify(&sim, ALICE, &["--part-size", "2621440", "up", &path]);
    assert_eq!(wrong_size.code, 2, "{}", wrong_size.stderr);
    assert!(wrong_size.stdout.contains(&verdict_row(1, "SIZE_MISMATCH", PART / 2, PART, "", &true_md5s(&path)[0])));
    assert!(
        wrong_size.stdout.ends_with(
            "11 parts: 5 MISSING, 6 SIZE_MISMATCH; 0 bytes hashed; mismatches found: upload 11 parts: 1-11 (6 again)\n"
        ),
        "{}",
        wrong_size.stdout
    );
    // Larger: Vault lists parts past the file's last one.
    let larger = verify(&sim, ALICE, &["--part-size", "10485760", "up", &path]);
    assert_eq!(larger.code, 3, "{}", larger.stderr);

    let before = sim.requests().len();
    for (args, needle) in [
        (&["up"][..], "the file to verify is missing"),
        (&["up", ""], "the file to verify is missing"),
        (&["up", &path, "more"], "verify takes an upload session ID and a file ('more' is extra)"),
        (&["--threads=0", "up", &path], "--threads takes a number from 1 to 16, not '0'"),
        (&["--threads", "17", "up", &path], "not '17'"),
        (&["--part-size=0", "up", &path], "--part-size takes a number of bytes of at least 1, not '0'"),
        (&["--part-size", "18446744073709551616", "up", &path], "not '18446744073709551616'"),
        (&["--part-size", "-5", "up", &path], "not '-5'"),
        (&["--part-size"], "option '--part-size' needs a value"),
        (&["--json=1", "up", &path], "takes no value"),
    ] {
        let r = verify(&sim, ALICE, args);
        assert_eq!(r.code, 64, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
    }
    // list does not take verify's options.
    let r = list(&sim, ALICE, &["--threads=2", "up"]);
    assert_eq!(r.code, 64);
    assert!(r.stderr.contains("unknown option '--threads=2'"), "{}", r.stderr);
    assert_eq!(sim.requests().len(), before, "no usage error reaches the network");

    let help = tool(&["verify", "--help"], &[]);
    assert_eq!(help.code, 0);
    for text in ["verify UPLOAD_SESSION_ID FILE", "--part-size N", "--threads N", "1 resumable", "3 not resumable"] {
        assert!(help.stdout.contains(text), "help lacks {text:?}");
    }
}

#[test]
fn verify_failures_exit_10_plus_the_code_with_one_message() {
    let files = Dir::new("vault_parts_cli_verify", "fail");
    let path = files.file("f.bin", 5 * PART + 100);
    let empty = files.file("empty.bin", 0);
    let missing = files.0.join("nope.bin").display().to_string();
    let dir = files.0.display().to_string();
    let config = Config::default()
        .user(ALICE, "alice", false)
        .user(BOB, "bob", false)
        .upload(file_upload("up", &path, 6, &[]))
        .upload(file_upload("second", &path, 2, &[PartFault::Missing(1)]))
        .upload(file_upload("dup", &path, 6, &[PartFault::Duplicate(2)]));
    let sim = Sim::start(config).unwrap();

    for (sid, args, code, needle) in [
        (ALICE, ["up", &missing], 22, missing.as_str()),
        (ALICE, ["up", &dir], 22, dir.as_str()),
        (ALICE, ["up", &empty], 11, "empty"),
        (ALICE, ["second", &path], 11, "pass the part size"),
        (ALICE, ["dup", &path], 20, "part 2 twice"),
        (BOB, ["up", &path], 13, "INSUFFICIENT_ACCESS"),
    ] {
        let r = verify(&sim, sid, &args);
        assert_eq!(r.code, code, "{args:?}: {}", r.stderr);
        assert!(r.stderr.starts_with("vault-parts: "), "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains(sid), "{args:?}: {}", r.stderr);
        let hint = usize::from(code == 11 && needle == "pass the part size");
        assert_eq!(r.stderr.lines().count(), 1 + hint, "{args:?}: {}", r.stderr);
        assert!(!r.stdout.contains("bytes hashed"), "no summary after a failure: {}", r.stdout);
    }
    let hinted = verify(&sim, ALICE, &["second", &path]);
    assert!(hinted.stderr.contains("vault-parts: hint: give the part size with --part-size N\n"), "{}", hinted.stderr);
    let given = verify(&sim, ALICE, &["--part-size", "5242880", "second", &path]);
    assert_eq!(given.code, 1, "{}", given.stderr);
}

/// verify is clean under ASan+UBSan and valgrind, for a verdict table and a local file failure.
#[test]
fn verify_is_clean_under_sanitizers_and_valgrind() {
    let files = Dir::new("vault_parts_cli_verify", "clean");
    let path = files.file("f.bin", 5 * PART + 100);
    let missing = files.0.join("nope.bin").display().to_string();
    let sim = Sim::start(Config::default().user(ALICE, "alice", false).upload(file_upload(
        "up",
        &path,
        4,
        &[PartFault::WrongMd5(1)],
    )))
    .unwrap();
    let url = sim.url();
    for mode in Mode::all() {
        let exe = program_for(TOOL, mode == Mode::Sanitized);
        for (args, code) in
            [(vec!["verify", "--threads=2", "up", path.as_str()], 2), (vec!["verify", "up", missing.as_str()], 22)]
        {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let r = run(mode, &exe, &args, &[("VAULT_URL", &url), ("VAULT_SESSION_ID", ALICE)]);
            assert_eq!(r.code, code, "{mode:?} {args:?}:\n{}", r.stderr);
            assert!(!r.stderr.contains("Sanitizer"), "{mode:?} {args:?}:\n{}", r.stderr);
        }
    }
}

// ---- upload and resume ----

/// A sim whose commit jobs take 200 ms and may be polled every 50 ms, so --poll 0.1 is allowed.
fn upload_sim(uploads: Vec<Upload>) -> Sim {
    let mut config = Config::default().user(ALICE, "alice", false);
    for u in uploads {
        config = config.upload(u);
    }
    config.job_delay = std::time::Duration::from_millis(200);
    config.job_poll_window = std::time::Duration::from_millis(50);
    Sim::start(config).unwrap()
}

fn upload_cmd(sim: &Sim, sid: &str, cmd: &str, args: &[&str]) -> Run {
    let url = sim.url();
    let mut all = vec![cmd];
    all.extend_from_slice(args);
    tool(&all, &[("VAULT_URL", &url), ("VAULT_SESSION_ID", sid)])
}

/// The upload session ID of the first stdout line, "upload session: ID".
fn printed_id(r: &Run) -> String {
    let first = r.stdout.lines().next().unwrap_or_else(|| panic!("no output: {}", r.stderr));
    first
        .strip_prefix("upload session: ")
        .unwrap_or_else(|| panic!("the ID does not come first:\n{}", r.stdout))
        .to_owned()
}

const SIZE_12MB: u64 = 12_000_000;

#[test]
fn upload_prints_the_id_first_sends_every_part_and_commits() {
    let files = Dir::new("vault_parts_cli_upload", "new");
    let path = files.file("f.bin", SIZE_12MB);
    let sim = upload_sim(vec![]);
    let r = upload_cmd(&sim, ALICE, "upload", &["--part-size", "5MiB", "--poll", "0.1", &path, "/u/alice/cli.bin"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let id = printed_id(&r);
    let staged = sim.staged("/u/alice/cli.bin").expect("the file is on staging");
    assert_eq!((staged.size, staged.upload_id.as_str()), (SIZE_12MB, id.as_str()));
    assert_eq!(staged.bytes().unwrap(), std::fs::read(&path).unwrap(), "staged bytes are the file's");
    let summary = format!("3 parts: 0 kept, 3 sent; {SIZE_12MB} bytes sent; job id {}; committed 1", staged.job_id);
    assert_eq!(r.stdout, format!("upload session: {id}\n{summary}\n"), "no part lines without --verbose");
    assert_eq!(r.stderr, "", "no progress line when stderr is not a terminal");
    let session = sim.session(&id).unwrap();
    assert_eq!(session.put_order, [1, 2, 3]);
    let job = sim.job(staged.job_id).unwrap();
    assert!(job.polls.len() >= 2, "polled every 0.1 s while the 200 ms job ran: {}", job.polls.len());

    // --verbose: one line per part event, between the ID and the summary; logs on stderr.
    let v =
        upload_cmd(&sim, ALICE, "upload", &["--verbose", "--part-size=5MiB", "--poll=0.1", &path, "/u/alice/v.bin"]);
    assert_eq!(v.code, 0, "{}", v.stderr);
    let lines: Vec<&str> = v.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", v.stdout);
    assert!(lines[0].starts_with("upload session: "));
    let md5s: Vec<String> = parts_of_file(&path, PART, 3).unwrap().into_iter().map(|p| p.md5.unwrap()).collect();
    assert_eq!(lines[1], format!("part 1 SENT MISSING offset 0 size {PART} md5 {} attempts 1", md5s[0]));
    assert_eq!(
        lines[3],
        format!("part 3 SENT MISSING offset {} size {} md5 {} attempts 1", 2 * PART, SIZE_12MB - 2 * PART, md5s[2])
    );
    assert!(lines[4].starts_with("3 parts: 0 kept, 3 sent; "), "{}", lines[4]);
    assert!(v.stderr.contains("vault-parts: debug: PUT "), "{}", v.stderr);
    assert!(!v.stderr.contains(ALICE) && !v.stdout.contains(ALICE));
}

#[test]
fn resume_keeps_the_uploaded_parts_and_sends_the_rest_json() {
    let files = Dir::new("vault_parts_cli_upload", "resume");
    let path = files.file("f.bin", SIZE_12MB);
    let sim = upload_sim(vec![Upload::from_file("res", "alice", &path, PART, 1).unwrap()]);
    let r = upload_cmd(&sim, ALICE, "resume", &["--json", "--poll", "0.1", "res", &path]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> =
        r.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
    assert_eq!(lines.len(), 5, "{}", r.stdout);
    assert_eq!(lines[0], serde_json::json!({"upload_session_id": "res"}));
    let md5s: Vec<String> = parts_of_file(&path, PART, 3).unwrap().into_iter().map(|p| p.md5.unwrap()).collect();
    assert_eq!(
        lines[1],
        serde_json::json!({"part_number":1,"action":"KEPT","verdict":"OK","offset":0,"size":PART,"md5":md5s[0],"attempts":0})
    );
    assert_eq!(lines[2]["action"], "SENT");
    assert_eq!(lines[2]["verdict"], "MISSING");
    assert_eq!(lines[3]["part_number"], 3);
    assert_eq!(lines[3]["size"], SIZE_12MB - 2 * PART);
    let staged = sim.staged(&sim.session("res").map(|s| s.path).unwrap_or_default());
    let summary = &lines[4];
    assert_eq!(summary["upload_session_id"], "res");
    assert_eq!(
        (summary["parts"].as_u64(), summary["kept"].as_u64(), summary["sent"].as_u64()),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(summary["bytes_sent"], SIZE_12MB - PART);
    assert_eq!(summary["committed"], true);
    assert_ne!(summary["job_id"], 0);
    if let Some(staged) = staged {
        assert_eq!(staged.bytes().unwrap(), std::fs::read(&path).unwrap());
    }
    assert_eq!(sim.session("res").unwrap().put_order, [2, 3], "part 1 was kept");

    // The text form: the ID, then the summary with its counts.
    let again = upload_sim(vec![Upload::from_file("res", "alice", &path, PART, 2).unwrap()]);
    let t = upload_cmd(&again, ALICE, "resume", &["--no-wait", "res", &path]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert_eq!(printed_id(&t), "res");
    assert!(t.stdout.lines().nth(1).unwrap().starts_with("3 parts: 2 kept, 1 sent; "), "{}", t.stdout);
    assert!(t.stdout.ends_with("; committed 1\n"), "--no-wait still commits: {}", t.stdout);

    // A file the session was not made for: a conflict, status 24, nothing sent.
    let other = files.file("other.bin", SIZE_12MB + 1);
    let fresh = upload_sim(vec![Upload::from_file("res", "alice", &path, PART, 1).unwrap()]);
    let c = upload_cmd(&fresh, ALICE, "resume", &["res", &other]);
    assert_eq!(c.code, 24, "{}", c.stderr);
    assert!(c.stderr.starts_with("vault-parts: "), "{}", c.stderr);
    assert_eq!(c.stdout, "", "no ID or summary when the start fails: {}", c.stdout);
    assert!(fresh.session("res").unwrap().put_order.is_empty(), "nothing sent");
}

#[test]
fn upload_part_size_units_no_commit_and_usage_errors() {
    let files = Dir::new("vault_parts_cli_upload", "sizes");
    let path = files.file("f.bin", SIZE_12MB);
    let sim = upload_sim(vec![]);

    // 8MiB and 8M are 8388608 bytes: 2 parts. --no-commit: no commit request, job id 0.
    for size in ["8MiB", "8M", "8192K", "8388608"] {
        let r = upload_cmd(&sim, ALICE, "upload", &["--no-commit", "--part-size", size, &path, "/u/alice/nc.bin"]);
        assert_eq!(r.code, 0, "{size}: {}", r.stderr);
        let id = printed_id(&r);
        assert_eq!(
            r.stdout.lines().nth(1),
            Some(format!("2 parts: 0 kept, 2 sent; {SIZE_12MB} bytes sent; job id 0; committed 0").as_str()),
            "{size}"
        );
        let session = sim.session(&id).unwrap();
        assert!(session.commits.is_empty(), "{size}: --no-commit commits nothing");
        assert_eq!(session.parts.len(), 2);
        assert_eq!(session.parts[0].size, 8 << 20, "{size}");
    }
    assert!(sim.staged("/u/alice/nc.bin").is_none());

    // Usage errors, the library's refusals before any request included: 64, nothing sent.
    let before = sim.requests().len();
    for (args, needle) in [
        (&["--part-size", "1M", &path, "/u/a.bin"][..], "vault-parts: --part-size takes 5MiB to 50MiB (5242880 to 52428800 bytes) for upload and resume, not '1M'\n"),
        (&["--part-size", "51MiB", &path, "/u/a.bin"], "not '51MiB'"),
        (&["--part-size", "5242879", &path, "/u/a.bin"], "not '5242879'"),
        (&["--part-size", "52428801", &path, "/u/a.bin"], "not '52428801'"),
        (&["--part-size", "8X", &path, "/u/a.bin"], "not '8X'"),
        (&["--part-size", "8 MiB", &path, "/u/a.bin"], "not '8 MiB'"),
        (&["--part-size", "99999999999999999999G", &path, "/u/a.bin"], "--part-size"),
        (&["--part-size", "17179869184G", &path, "/u/a.bin"], "--part-size"),
        (&["--poll", "0.05", &path, "/u/a.bin"], "poll interval"),
        (&["--poll", "0", &path, "/u/a.bin"], "--poll takes seconds"),
        (&["--no-commit", "--no-wait", &path, "/u/a.bin"], "choose one of --no-commit and --no-wait"),
        (&["--threads", "2", &path, "/u/a.bin"], "unknown option '--threads'"),
        (&["--no-commit=1", &path, "/u/a.bin"], "takes no value"),
        (&[path.as_str()][..], "the staging path is missing"),
        (&[], "the file to upload is missing"),
        (&[&path, "/u/a.bin", "more"], "upload takes a file and a staging path ('more' is extra)"),
        (&[&path, "relative.bin"], "staging"),
    ] {
        let r = upload_cmd(&sim, ALICE, "upload", args);
        assert_eq!(r.code, 64, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert_eq!(r.stdout, "", "{args:?}");
    }
    for (args, needle) in [
        (&["--overwrite", "x", &path][..], "unknown option '--overwrite'"),
        (&["x"], "the file to upload is missing"),
        (
            &["--part-size=4MiB", "x", &path],
            "5MiB to 50MiB (5242880 to 52428800 bytes) for upload and resume, not '4MiB'",
        ),
    ] {
        let r = upload_cmd(&sim, ALICE, "resume", args);
        assert_eq!(r.code, 64, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
    }
    assert_eq!(sim.requests().len(), before, "no usage error reaches the network");
    // list does not take upload's options.
    let r = list(&sim, ALICE, &["--poll=1", "ex"]);
    assert_eq!(r.code, 64);
    assert!(r.stderr.contains("unknown option '--poll=1'"), "{}", r.stderr);

    // An empty file is the file's problem, not a usage error: 11, as verify's.
    let empty = files.file("empty.bin", 0);
    let e = upload_cmd(&sim, ALICE, "upload", &[&empty, "/u/alice/e.bin"]);
    assert_eq!(e.code, 11, "{}", e.stderr);
    assert!(e.stderr.contains("empty"), "{}", e.stderr);

    // The range's ends are taken: 5 MiB and 50 MiB.
    for size in ["5MiB", "50MiB"] {
        let r = upload_cmd(&sim, ALICE, "upload", &["--no-commit", "--part-size", size, &path, "/u/alice/ends.bin"]);
        assert_eq!(r.code, 0, "{size}: {}", r.stderr);
    }

    // --json: the library's refusal is also a JSON object on stdout, with no HTTP status (no
    // request was made); a usage error the tool finds itself prints nothing there.
    let j = upload_cmd(&sim, ALICE, "upload", &["--json", "--poll", "0.05", &path, "/u/a.bin"]);
    assert_eq!(j.code, 64, "{}", j.stderr);
    let v: serde_json::Value = serde_json::from_str(j.stdout.trim_end()).unwrap();
    assert_eq!(v["error"]["code"], 1);
    assert_eq!(v["error"]["name"], "VAULT_PARTS_E_ARG");
    assert_eq!((v["error"]["http_status"].as_i64(), v["error"]["retry_after_ms"].as_i64()), (Some(0), Some(-1)));
    let k = upload_cmd(&sim, ALICE, "upload", &["--json", "--part-size", "1M", &path, "/u/a.bin"]);
    assert_eq!((k.code, k.stdout.as_str()), (64, ""), "{}", k.stderr);
}

#[test]
fn upload_json_failure_is_one_object_without_the_session_id() {
    let files = Dir::new("vault_parts_cli_upload", "fail");
    let path = files.file("f.bin", SIZE_12MB);
    let sim = upload_sim(vec![Upload::from_file("res", "alice", &path, PART, 1).unwrap()]);
    let stale = "SID-stale-0123456789abcdef";
    for (cmd, args) in
        [("upload", vec!["--json", path.as_str(), "/u/alice/x.bin"]), ("resume", vec!["--json", "res", path.as_str()])]
    {
        let r = upload_cmd(&sim, stale, cmd, &args);
        assert_eq!(r.code, 12, "{cmd}: {}", r.stderr);
        assert_eq!(r.stdout.lines().count(), 1, "{cmd}: only the error object:\n{}", r.stdout);
        let v: serde_json::Value = serde_json::from_str(r.stdout.trim_end()).unwrap();
        let e = v["error"].as_object().unwrap_or_else(|| panic!("{cmd}: {}", r.stdout));
        assert_eq!(e["code"], 2);
        assert_eq!(e["name"], "VAULT_PARTS_E_AUTH");
        assert!(e["message"].as_str().unwrap().contains("INVALID_SESSION_ID"), "{cmd}: {}", r.stdout);
        // Vault answers INVALID_SESSION_ID with HTTP 200; no Retry-After.
        assert_eq!((e["http_status"].as_i64(), e["retry_after_ms"].as_i64()), (Some(200), Some(-1)), "{cmd}");
        assert!(!r.stdout.contains(stale) && !r.stderr.contains(stale), "{cmd}: the session ID was printed");
        assert_eq!(r.stderr.lines().count(), 1, "{cmd}: {}", r.stderr);
        assert!(r.stderr.starts_with("vault-parts: session ID rejected: "), "{cmd}: {}", r.stderr);
    }
    // A missing local file: status 22, the object names the path (escaped as JSON).
    let missing = files.0.join("no \"such\".bin").display().to_string();
    let r = upload_cmd(&sim, ALICE, "upload", &["--json", &missing, "/u/alice/x.bin"]);
    assert_eq!(r.code, 22, "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(r.stdout.trim_end()).unwrap_or_else(|e| panic!("{}: {e}", r.stdout));
    assert_eq!(v["error"]["name"], "VAULT_PARTS_E_IO");
    assert!(v["error"]["message"].as_str().unwrap().contains(&missing), "{}", r.stdout);
}

#[test]
fn upload_help_lists_the_commands_and_statuses() {
    let help = tool(&["upload", "--help"], &[]);
    assert_eq!(help.code, 0);
    for text in [
        "upload FILE STAGING_PATH",
        "resume UPLOAD_SESSION_ID FILE",
        "--no-commit",
        "--no-wait",
        "--poll SECONDS",
        "--overwrite",
        "8MiB",
        "23 cancelled",
        "24 conflict",
        "25 integrity",
        "abort UPLOAD_SESSION_ID",
        "sessions                        print your upload sessions, one tab-separated line each",
        "(with the HTTP status and Retry-After); so do abort and sessions",
    ] {
        assert!(help.stdout.contains(text), "help lacks {text:?}");
    }
}

/// SIGINT while a part is on the wire: the upload stops, status 23 (10 + E_CANCELLED), after
/// the ID was printed, and nothing is committed.
#[test]
fn sigint_interrupts_an_upload() {
    use vault_sim::{Action, Endpoint, When};
    let files = Dir::new("vault_parts_cli_upload", "sigint");
    let path = files.file("f.bin", SIZE_12MB);
    let config = Config::default().user(ALICE, "alice", false).fault_on(
        Endpoint::Put,
        When::Always,
        Action::Delay(std::time::Duration::from_millis(5000)),
    );
    let sim = Sim::start(config).unwrap();
    let url = sim.url();
    let child = Command::new(program(TOOL))
        .args(["upload", "--part-size", "5MiB", &path, "/u/alice/int.bin"])
        .env("VAULT_URL", &url)
        .env("VAULT_SESSION_ID", ALICE)
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("ALL_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("all_proxy")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !sim.requests().iter().any(|q| q.method == "PUT") {
        assert!(std::time::Instant::now() < deadline, "no PUT arrived");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let started = std::time::Instant::now();
    // SAFETY: kill(2) on the child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "took {:?}", started.elapsed());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(23), "{stderr}");
    assert!(stdout.starts_with("upload session: "), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "no summary after a failure: {stdout}");
    assert!(stderr.starts_with("vault-parts: "), "{stderr}");
    assert!(sim.staged("/u/alice/int.bin").is_none());
}

/// upload is clean under ASan+UBSan and valgrind, for a new session and a resumed one.
#[test]
fn upload_is_clean_under_sanitizers_and_valgrind() {
    let files = Dir::new("vault_parts_cli_upload", "clean");
    let path = files.file("f.bin", PART + 100);
    let sim = upload_sim(vec![Upload::from_file("res", "alice", &path, PART, 1).unwrap()]);
    let url = sim.url();
    for mode in Mode::all() {
        let exe = program_for(TOOL, mode == Mode::Sanitized);
        for (args, code) in [
            (vec!["upload", "--json", "--no-commit", path.as_str(), "/u/alice/c.bin"], 0),
            (vec!["resume", "--no-commit", "--verbose", "res", path.as_str()], 0),
            (vec!["upload", "--part-size=1M", path.as_str(), "/u/alice/c.bin"], 64),
        ] {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            let r = run(mode, &exe, &args, &[("VAULT_URL", &url), ("VAULT_SESSION_ID", ALICE)]);
            assert_eq!(r.code, code, "{mode:?} {args:?}:\n{}", r.stderr);
            assert!(!r.stderr.contains("Sanitizer"), "{mode:?} {args:?}:\n{}", r.stderr);
        }
    }
}

// ---- abort and sessions ----

/// The base URL (no trailing slash) the library's messages quote.
fn base_of(sim: &Sim) -> String {
    sim.url().trim_end_matches('/').to_owned()
}

fn account_cmd(sim: &Sim, sid: &str, args: &[&str]) -> Run {
    let url = sim.url();
    tool(args, &[("VAULT_URL", &url), ("VAULT_SESSION_ID", sid)])
}

/// What vault-sim answers for an upload session ID it does not know (or no longer knows).
const NO_SESSION: &str = "Vault answered FAILURE: INVALID_DATA: Invalid upload session ID.";

/// The IDs of `sessions --json`'s lines.
fn session_ids(r: &Run) -> Vec<String> {
    r.stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            v["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn abort_purges_the_session_and_then_it_is_gone() {
    let sim = sim(3);
    let base = base_of(&sim);
    let r = account_cmd(&sim, ALICE, &["abort", "ex"]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (0, "aborted upload session ex\n", ""));
    let gone = sim.session("ex").unwrap();
    assert_eq!(gone.state, vault_sim::SessionState::Aborted);
    assert!(gone.parts.is_empty(), "its parts are purged");
    let deletes: Vec<_> = sim.requests().into_iter().filter(|q| q.method == "DELETE").collect();
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, "/api/v25.3/services/file_staging/upload/ex");

    // A second abort, and a listing, fail as for any unknown session: 10 + E_VAULT.
    let again = account_cmd(&sim, ALICE, &["abort", "ex"]);
    assert_eq!((again.code, again.stdout.as_str()), (15, ""), "{}", again.stderr);
    assert_eq!(
        again.stderr,
        format!(
            "vault-parts: Vault reported an error: abort (DELETE {base}/api/v25.3/services/file_staging/upload/ex): {NO_SESSION}\n"
        )
    );
    let listed = list(&sim, ALICE, &["ex"]);
    assert_eq!((listed.code, listed.stdout.as_str()), (15, ""), "{}", listed.stderr);
    assert_eq!(
        listed.stderr,
        format!(
            "vault-parts: Vault reported an error: page 1 (GET {base}/api/v25.3/services/file_staging/upload/ex/parts): {NO_SESSION}\n"
        )
    );
    let left = account_cmd(&sim, ALICE, &["sessions", "--json"]);
    assert_eq!((left.code, left.stderr.as_str()), (0, ""));
    assert_eq!(session_ids(&left), ["one", "none"], "the aborted session is no longer listed");
}

#[test]
fn abort_of_an_unknown_id_json_forms_and_usage_errors() {
    let sim = sim(3);
    let base = base_of(&sim);
    let message = format!("abort (DELETE {base}/api/v25.3/services/file_staging/upload/nope): {NO_SESSION}");
    let r = account_cmd(&sim, ALICE, &["abort", "nope"]);
    assert_eq!((r.code, r.stdout.as_str()), (15, ""), "{}", r.stderr);
    assert_eq!(r.stderr, format!("vault-parts: Vault reported an error: {message}\n"));

    let j = account_cmd(&sim, ALICE, &["abort", "--json", "nope"]);
    assert_eq!(j.code, 15, "{}", j.stderr);
    assert_eq!(
        j.stdout,
        format!(
            "{{\"error\":{{\"code\":5,\"name\":\"VAULT_PARTS_E_VAULT\",\"message\":\"{message}\",\"http_status\":200,\"retry_after_ms\":-1}}}}\n"
        )
    );
    assert_eq!(j.stderr, format!("vault-parts: Vault reported an error: {message}\n"));

    let ok = account_cmd(&sim, ALICE, &["abort", "--json", "--client-id", "cli-abort", "one"]);
    assert_eq!(
        (ok.code, ok.stdout.as_str(), ok.stderr.as_str()),
        (0, "{\"upload_session_id\":\"one\",\"aborted\":true}\n", "")
    );
    assert_eq!(sim.session("one").unwrap().state, vault_sim::SessionState::Aborted);
    let delete = sim.requests().into_iter().rfind(|q| q.method == "DELETE").unwrap();
    assert_eq!(delete.header("x-vaultapi-clientid"), Some("cli-abort"));

    let before = sim.requests().len();
    for (args, stderr) in [
        (&["abort"][..], "vault-parts: the upload session ID is missing\n"),
        (&["abort", "ex", "b"], "vault-parts: only one upload session ID may be given ('b' is extra)\n"),
        (&["abort", "--limit=2", "ex"], "vault-parts: unknown option '--limit=2'\n"),
        (&["abort", "--part-size=5MiB", "ex"], "vault-parts: unknown option '--part-size=5MiB'\n"),
        (&["abort", "--json=1", "ex"], "vault-parts: option '--json=1' takes no value\n"),
        (&["sessions", "ex"], "vault-parts: sessions takes no arguments ('ex' is extra)\n"),
        (&["sessions", "--limit", "5"], "vault-parts: unknown option '--limit'\n"),
    ] {
        let r = account_cmd(&sim, ALICE, args);
        assert_eq!((r.code, r.stdout.as_str()), (64, ""), "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, format!("{stderr}Try 'vault-parts --help'.\n"), "{args:?}");
    }
    assert_eq!(sim.requests().len(), before, "no usage error reaches the network");
    assert_eq!(sim.session("ex").unwrap().state, vault_sim::SessionState::Open);

    // The session ID pasted as the upload session ID: refused before any request (it would
    // travel in the URL): a bad argument (exit 64, as for any argument the open refuses), and
    // neither output quotes it.
    let before = sim.requests().len();
    let pasted = account_cmd(&sim, ALICE, &["abort", "--json", ALICE]);
    assert_eq!(pasted.code, 64, "{}", pasted.stderr);
    assert!(!pasted.stdout.contains(ALICE) && !pasted.stderr.contains(ALICE), "{}{}", pasted.stdout, pasted.stderr);
    assert!(pasted.stderr.contains("upload_session_id is the session ID"), "{}", pasted.stderr);
    assert_eq!(sim.requests().len(), before, "nothing is sent");
}

#[test]
fn sessions_prints_one_tab_separated_line_per_session() {
    use harness::raw::{ok as raw_ok, RawServer};
    use std::sync::{Arc, Mutex};
    const BODY: &str = concat!(
        r#"{"responseStatus":"SUCCESS","data":["#,
        r#"{"path":"/u/alice/big.iso","name":"big.iso","id":"98f46c04fa7a65ff2e5eaf90fdf613ab","#,
        r#""expiration_date":"2026-01-04T10:00:00.000Z","created_date":"2026-01-01T10:00:00.000Z","#,
        r#""last_uploaded_date":"2026-01-01T11:00:00.000Z","owner":61603,"uploaded_parts":3,"size":104857600,"#,
        r#""uploaded":15728640,"overwrite":false},"#,
        r#"{"path":"/u/alice/two words.bin","name":"two words.bin","id":"AAAAbbbb.CCCCdddd-eeee_ffff","#,
        r#""expiration_date":"2026-02-04T08:30:00.000Z","created_date":"2026-02-01T08:30:00.000Z","#,
        r#""last_uploaded_date":"2026-02-01T08:30:00.000Z","owner":61603,"uploaded_parts":0,"size":60000000,"#,
        r#""uploaded":0,"overwrite":true}]}"#
    );
    let targets = Arc::new(Mutex::new(Vec::new()));
    let seen = targets.clone();
    let server = RawServer::start(Arc::new(move |_, target: &str| {
        seen.lock().unwrap().push(target.to_owned());
        (std::time::Duration::ZERO, raw_ok(BODY))
    }));
    let url = server.url();
    let env = [("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)];

    let plain = tool(&["sessions"], &env);
    assert_eq!((plain.code, plain.stderr.as_str()), (0, ""));
    assert_eq!(
        plain.stdout,
        concat!(
            "98f46c04fa7a65ff2e5eaf90fdf613ab\t/u/alice/big.iso\t104857600\t3\t15728640\t",
            "2026-01-01T10:00:00.000Z\t2026-01-04T10:00:00.000Z\n",
            "AAAAbbbb.CCCCdddd-eeee_ffff\t/u/alice/two words.bin\t60000000\t0\t0\t",
            "2026-02-01T08:30:00.000Z\t2026-02-04T08:30:00.000Z\n"
        )
    );
    let json = tool(&["sessions", "--json", "--api-version", "v24.1"], &env);
    assert_eq!((json.code, json.stderr.as_str()), (0, ""));
    assert_eq!(
        json.stdout,
        concat!(
            r#"{"id":"98f46c04fa7a65ff2e5eaf90fdf613ab","path":"/u/alice/big.iso","size":104857600,"uploaded_parts":3,"#,
            r#""uploaded_bytes":15728640,"created_date":"2026-01-01T10:00:00.000Z","expiration_date":"2026-01-04T10:00:00.000Z"}"#,
            "\n",
            r#"{"id":"AAAAbbbb.CCCCdddd-eeee_ffff","path":"/u/alice/two words.bin","size":60000000,"uploaded_parts":0,"#,
            r#""uploaded_bytes":0,"created_date":"2026-02-01T08:30:00.000Z","expiration_date":"2026-02-04T08:30:00.000Z"}"#,
            "\n"
        )
    );
    assert_eq!(
        *targets.lock().unwrap(),
        ["/api/v25.3/services/file_staging/upload", "/api/v24.1/services/file_staging/upload"],
        "one request per listing"
    );
}

/// `at` as vault-sim writes dates ("2026-05-19T10:33:23.000Z"), to bound the dates it lists.
fn iso_date(at: std::time::SystemTime) -> String {
    let since = at.duration_since(std::time::SystemTime::UNIX_EPOCH).unwrap();
    let (days, secs) = ((since.as_secs() / 86_400) as i64, since.as_secs() % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        since.subsec_millis()
    )
}

#[test]
fn sessions_lists_the_users_own_and_fails_with_a_json_object() {
    use std::time::{Duration, SystemTime};
    use vault_sim::{Action, Endpoint, When};
    let config = Config::default()
        .user(ALICE, "alice", false)
        .user(BOB, "bob", false)
        .upload(Upload::new("ex", "alice", 2))
        .upload(Upload::new("bobs", "bob", 1))
        .upload(Upload::new("half", "alice", 1).declared_size(3 * PART))
        .fault_on(
            Endpoint::Sessions,
            When::Request(4),
            Action::Status { code: 503, body: String::new(), retry_after: Some(7) },
        );
    let started = SystemTime::now();
    let sim = Sim::start(config).unwrap();
    let ready = SystemTime::now();
    let base = base_of(&sim);

    // The JSON objects' dates make the exact text lines: each created while the sim started,
    // each expiring 72 hours later (ISO 8601 dates of one width compare as text).
    let j = account_cmd(&sim, ALICE, &["sessions", "--json"]);
    assert_eq!((j.code, j.stderr.as_str()), (0, ""));
    let dates: Vec<(String, String)> = j
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"));
            (v["created_date"].as_str().unwrap().to_owned(), v["expiration_date"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(dates.len(), 2, "alice's two sessions, not bob's:\n{}", j.stdout);
    let life = Duration::from_secs(72 * 3600);
    for (created, expires) in &dates {
        assert!(iso_date(started) <= *created && *created <= iso_date(ready), "{created}");
        assert!(iso_date(started + life) <= *expires && *expires <= iso_date(ready + life), "{expires}");
    }
    let ((c1, e1), (c2, e2)) = (&dates[0], &dates[1]);
    assert_eq!(
        j.stdout,
        format!(
            concat!(
                "{{\"id\":\"ex\",\"path\":\"/u/alice/ex\",\"size\":10485760,\"uploaded_parts\":2,\"uploaded_bytes\":10485760,\"created_date\":\"{c1}\",\"expiration_date\":\"{e1}\"}}\n",
                "{{\"id\":\"half\",\"path\":\"/u/alice/half\",\"size\":15728640,\"uploaded_parts\":1,\"uploaded_bytes\":5242880,\"created_date\":\"{c2}\",\"expiration_date\":\"{e2}\"}}\n"
            ),
            c1 = c1,
            e1 = e1,
            c2 = c2,
            e2 = e2
        )
    );
    let t = account_cmd(&sim, ALICE, &["sessions"]);
    assert_eq!((t.code, t.stderr.as_str()), (0, ""));
    assert_eq!(
        t.stdout,
        format!("ex\t/u/alice/ex\t10485760\t2\t10485760\t{c1}\t{e1}\nhalf\t/u/alice/half\t15728640\t1\t5242880\t{c2}\t{e2}\n")
    );
    let b = account_cmd(&sim, BOB, &["sessions", "--json"]);
    assert_eq!((b.code, b.stderr.as_str()), (0, ""));
    assert_eq!(session_ids(&b), ["bobs"]);

    // The fourth listing gets a 503 with Retry-After: 7; one attempt: 10 + E_HTTP.
    let message = format!(
        "list upload sessions (GET {base}/api/v25.3/services/file_staging/upload): HTTP 503 Service Unavailable from {base}"
    );
    let f = account_cmd(&sim, ALICE, &["sessions", "--json", "--max-attempts", "1"]);
    assert_eq!(f.code, 16, "{}", f.stderr);
    assert_eq!(
        f.stdout,
        format!(
            "{{\"error\":{{\"code\":6,\"name\":\"VAULT_PARTS_E_HTTP\",\"message\":\"{message}\",\"http_status\":503,\"retry_after_ms\":7000}}}}\n"
        )
    );
    assert_eq!(f.stderr, format!("vault-parts: unexpected HTTP status: {message}\n"));
    // The fifth is answered again; without --json a failure prints nothing on stdout.
    let t2 = account_cmd(&sim, ALICE, &["sessions"]);
    assert_eq!((t2.code, t2.stdout.as_str()), (0, t.stdout.as_str()));
}

/// A sim with one user, fast commit jobs (as upload_sim) and one fault on every session a
/// create makes.
fn faulty_upload_sim(endpoint: vault_sim::Endpoint, when: vault_sim::When, action: vault_sim::Action) -> Sim {
    let mut config = Config::default().user(ALICE, "alice", false).fault_on(endpoint, when, action);
    config.job_delay = std::time::Duration::from_millis(200);
    config.job_poll_window = std::time::Duration::from_millis(50);
    Sim::start(config).unwrap()
}

/// The ID of the first --json line, {"upload_session_id":"..."}.
fn json_id(r: &Run) -> String {
    let first = r.stdout.lines().next().unwrap_or_else(|| panic!("no output: {}", r.stderr));
    let v: serde_json::Value = serde_json::from_str(first).unwrap_or_else(|e| panic!("{first}: {e}"));
    v["upload_session_id"].as_str().unwrap_or_else(|| panic!("{first}")).to_owned()
}

#[test]
fn upload_json_failure_carries_the_http_status_and_retry_after() {
    use vault_sim::{Action, Endpoint, When};
    let files = Dir::new("vault_parts_cli_upload", "retry_after");
    let path = files.file("f.bin", SIZE_12MB);
    let sim = faulty_upload_sim(
        Endpoint::Put,
        When::Always,
        Action::Status { code: 429, body: String::new(), retry_after: Some(3) },
    );
    let base = base_of(&sim);
    let r = upload_cmd(
        &sim,
        ALICE,
        "upload",
        &["--json", "--max-attempts", "1", "--part-size", "5MiB", &path, "/u/alice/rl.bin"],
    );
    assert_eq!(r.code, 14, "10 + E_RATE_LIMIT: {}", r.stderr);
    let id = json_id(&r);
    let message = format!(
        "part 1 (PUT {base}/api/v25.3/services/file_staging/upload/{id}): HTTP 429 Too Many Requests from {base}"
    );
    assert_eq!(
        r.stdout,
        format!(
            "{{\"upload_session_id\":\"{id}\"}}\n{{\"error\":{{\"code\":4,\"name\":\"VAULT_PARTS_E_RATE_LIMIT\",\"message\":\"{message}\",\"http_status\":429,\"retry_after_ms\":3000}}}}\n"
        )
    );
    assert_eq!(r.stderr, format!("vault-parts: rate limited: {message}\n"));
    let session = sim.session(&id).unwrap();
    assert_eq!(session.put_order, [1], "one attempt");
    assert!(session.commits.is_empty());

    // resume: a 503 with Retry-After: 2 on the session's PUTs, 10 + E_HTTP.
    let res = Upload::from_file("res", "alice", &path, PART, 1).unwrap().fault_on(
        Endpoint::Put,
        When::Always,
        Action::Status { code: 503, body: String::new(), retry_after: Some(2) },
    );
    let sim = upload_sim(vec![res]);
    let base = base_of(&sim);
    let r = upload_cmd(&sim, ALICE, "resume", &["--json", "--max-attempts=1", "res", &path]);
    assert_eq!(r.code, 16, "{}", r.stderr);
    let message = format!(
        "part 2 (PUT {base}/api/v25.3/services/file_staging/upload/res): HTTP 503 Service Unavailable from {base}"
    );
    let md5 = &parts_of_file(&path, PART, 1).unwrap()[0].md5.clone().unwrap();
    assert_eq!(
        r.stdout,
        format!(
            concat!(
                "{{\"upload_session_id\":\"res\"}}\n",
                "{{\"part_number\":1,\"action\":\"KEPT\",\"verdict\":\"OK\",\"offset\":0,\"size\":{part},\"md5\":\"{md5}\",\"attempts\":0}}\n",
                "{{\"error\":{{\"code\":6,\"name\":\"VAULT_PARTS_E_HTTP\",\"message\":\"{message}\",\"http_status\":503,\"retry_after_ms\":2000}}}}\n"
            ),
            part = PART,
            md5 = md5,
            message = message
        )
    );
    assert_eq!(r.stderr, format!("vault-parts: unexpected HTTP status: {message}\n"));
}

#[test]
fn upload_exits_25_when_vault_stores_other_bytes() {
    use vault_sim::{Action, Endpoint, When};
    let files = Dir::new("vault_parts_cli_upload", "integrity");
    let path = files.file("f.bin", SIZE_12MB);
    let local = parts_of_file(&path, PART, 1).unwrap()[0].md5.clone().unwrap();
    let echoed = vault_sim::md5_for("echo", 1);
    let sim = faulty_upload_sim(Endpoint::Put, When::Always, Action::EchoMd5);
    let base = base_of(&sim);
    let stored = |id: &str, attempts: &str| {
        format!(
            "part 1 (PUT {base}/api/v25.3/services/file_staging/upload/{id}){attempts}: Vault stored part 1 as {PART} bytes with MD5 {echoed}; the local part is {PART} bytes with MD5 {local}"
        )
    };

    let r = upload_cmd(&sim, ALICE, "upload", &["--max-attempts", "1", "--part-size", "5MiB", &path, "/u/alice/i.bin"]);
    assert_eq!(r.code, 25, "{}", r.stderr);
    let id = printed_id(&r);
    assert_eq!(r.stdout, format!("upload session: {id}\n"), "no summary after a failure");
    assert_eq!(r.stderr, format!("vault-parts: part stored with other content: {}\n", stored(&id, "")));
    assert!(sim.session(&id).unwrap().commits.is_empty(), "nothing committed");

    let j = upload_cmd(
        &sim,
        ALICE,
        "upload",
        &["--json", "--max-attempts", "2", "--part-size", "5MiB", &path, "/u/alice/i.bin"],
    );
    assert_eq!(j.code, 25, "{}", j.stderr);
    let id = json_id(&j);
    let message = stored(&id, " (after 2 attempts)");
    assert_eq!(
        j.stdout,
        format!(
            "{{\"upload_session_id\":\"{id}\"}}\n{{\"error\":{{\"code\":15,\"name\":\"VAULT_PARTS_E_INTEGRITY\",\"message\":\"{message}\",\"http_status\":200,\"retry_after_ms\":-1}}}}\n"
        )
    );
    assert_eq!(j.stderr, format!("vault-parts: part stored with other content: {message}\n"));
    assert_eq!(sim.session(&id).unwrap().put_order, [1, 1]);
    assert!(sim.staged("/u/alice/i.bin").is_none());
}

#[test]
fn a_failed_commit_job_exits_15() {
    use vault_sim::{Action, Endpoint, When};
    let files = Dir::new("vault_parts_cli_upload", "job");
    let path = files.file("f.bin", SIZE_12MB);
    let sim = faulty_upload_sim(Endpoint::Commit, When::Request(1), Action::JobStatus("ERRORS_ENCOUNTERED".into()));
    let failed = |job: u64| {
        format!("the commit's job {job} ended with status \"ERRORS_ENCOUNTERED\": the file is not on staging")
    };

    let r = upload_cmd(&sim, ALICE, "upload", &["--poll", "0.1", "--part-size", "5MiB", &path, "/u/alice/j.bin"]);
    assert_eq!(r.code, 15, "10 + E_VAULT: {}", r.stderr);
    let id = printed_id(&r);
    let job = sim.session(&id).unwrap().jobs[0];
    assert_eq!(r.stdout, format!("upload session: {id}\n"));
    assert_eq!(r.stderr, format!("vault-parts: Vault reported an error: {}\n", failed(job)));
    assert!(sim.staged("/u/alice/j.bin").is_none());

    let j = upload_cmd(&sim, ALICE, "upload", &["--json", "--poll=0.1", "--part-size=5MiB", &path, "/u/alice/j.bin"]);
    assert_eq!(j.code, 15, "{}", j.stderr);
    let id = json_id(&j);
    let job = sim.session(&id).unwrap().jobs[0];
    let lines: Vec<&str> = j.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "the ID, 3 part events, the error:\n{}", j.stdout);
    assert_eq!(
        lines[4],
        format!(
            "{{\"error\":{{\"code\":5,\"name\":\"VAULT_PARTS_E_VAULT\",\"message\":\"{}\",\"http_status\":200,\"retry_after_ms\":-1}}}}",
            failed(job).replace('"', "\\\"")
        )
    );
    assert_eq!(j.stderr, format!("vault-parts: Vault reported an error: {}\n", failed(job)));
}

/// Runs the tool with its standard output on /dev/full (every write fails with ENOSPC): the
/// exit status and standard error.
fn tool_to_dev_full(args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").expect("/dev/full");
    let mut cmd = Command::new(program(TOOL));
    for var in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(var);
    }
    let out = cmd
        .args(args)
        .env("LD_LIBRARY_PATH", lib_dir())
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::null())
        .stdout(full)
        .output()
        .expect("the tool runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

const DEV_FULL: &str = "vault-parts: cannot write standard output: No space left on device\n";

/// Every command checks its writes to standard output: one that cannot be written exits 74
/// and says so, where it used to exit 0 as if the lines had been printed. sessions asks for
/// no further page; abort still aborts (the DELETE went out), but its confirmation was lost.
#[test]
fn sessions_abort_and_the_rest_exit_74_when_standard_output_cannot_be_written() {
    let sim = sim(3);
    let url = sim.url();
    let env = [("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)];
    for args in [&["sessions"][..], &["sessions", "--json"]] {
        let before = sim.requests().len();
        assert_eq!(tool_to_dev_full(args, &env), (74, DEV_FULL.to_owned()), "{args:?}");
        assert_eq!(sim.requests().len(), before + 1, "{args:?}: one request");
    }
    assert_eq!(tool_to_dev_full(&["abort", "ex"], &env), (74, DEV_FULL.to_owned()));
    assert_eq!(tool_to_dev_full(&["abort", "one", "--json"], &env), (74, DEV_FULL.to_owned()));
    let deletes = sim.requests().into_iter().filter(|q| q.method == "DELETE").count();
    assert_eq!(deletes, 2);
    assert_eq!(sim.session("ex").unwrap().state, vault_sim::SessionState::Aborted);
    assert_eq!(tool_to_dev_full(&["list", "none"], &env), (74, DEV_FULL.to_owned()));
    assert_eq!(sim.requests().len(), 5);
    // The usage text overflows stdio's buffer: the write that failed was not the last flush,
    // so no reason is given (errno may have changed since).
    let no_reason = "vault-parts: cannot write standard output\n".to_owned();
    assert_eq!(tool_to_dev_full(&["--help"], &[]), (74, no_reason.clone()));
    assert_eq!(tool_to_dev_full(&["--version"], &[]), (74, DEV_FULL.to_owned()));
    // A failure keeps its own status: the output error is reported besides.
    let failed = tool_to_dev_full(&["abort", "ex", "--json"], &env);
    let base = base_of(&sim);
    let vault_error = format!(
        "vault-parts: Vault reported an error: abort (DELETE {base}/api/v25.3/services/file_staging/upload/ex): {NO_SESSION}\n"
    );
    assert_eq!(failed, (15, format!("{vault_error}{no_reason}")));
    // Written where it can be, the same commands succeed.
    let ok = tool(&["sessions"], &env);
    assert_eq!((ok.code, ok.stderr.as_str()), (0, ""));
}

/// The tab-separated fields mask what would hide or reorder text on a terminal: the bidi
/// controls become '?' as C0 controls, DEL and C1 controls do (the library refuses those three
/// in a server's text fields as a protocol violation, so only the bidi ones reach the tool
/// here; other format characters, such as U+200D, and other text pass). An empty field is
/// "-", and a field that is "-" (or starts with a backslash) gets a backslash in front, so
/// the two never look alike.
#[test]
fn sessions_fields_mask_c1_and_bidi_controls_and_tell_a_dash_from_empty() {
    use harness::raw::{ok as raw_ok, RawServer};
    const BODY: &str = concat!(
        r#"{"responseStatus":"SUCCESS","data":["#,
        r#"{"path":"/u/d\u202ee\u202af\u202bf\u202cf\u202df\u2066g\u2067g\u2068g\u2069h\u200ei\u200fj\u061ck\u00e9\u200dn","#,
        r#""id":"-","expiration_date":"","created_date":"\\back\\slash","owner":61603,"uploaded_parts":1,"size":5,"uploaded":5},"#,
        r#"{"path":"\\-","id":"-x","expiration_date":"-x","created_date":"","owner":61603,"uploaded_parts":0,"size":6,"uploaded":0}]}"#
    );
    let server = RawServer::start(std::sync::Arc::new(|_, _: &str| (std::time::Duration::ZERO, raw_ok(BODY))));
    let url = server.url();
    let r = tool(&["sessions"], &[("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(
        r.stdout,
        concat!(
            "\\-\t/u/d?e?f?f?f?f?g?g?g?h?i?j?k\u{e9}\u{200d}n\t5\t1\t5\t\\\\back\\slash\t-\n",
            "-x\t\\\\-\t6\t0\t0\t-\t-x\n"
        )
    );
}

/// --timeout's usage line says what the man page says: time without progress, not the time
/// an attempt may take in all.
#[test]
fn the_usage_line_of_timeout_says_time_without_progress() {
    let r = tool(&["--help"], &[]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout.contains(concat!(
            "  --timeout SECONDS   how long one HTTP attempt may go without progress (no body byte\n",
            "                      sent or received), like 30 or 0.5 (default 60)\n"
        )),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("time per HTTP attempt"));
    assert!(r.stdout.contains("74 standard output could\nnot be written"), "{}", r.stdout);
}

/// Runs the tool with standard output `how`: "closed" (fd 1 closed, `>&-`) or "broken" (a pipe
/// whose reader is gone, SIGPIPE ignored, as `| head -c 0` under `trap '' PIPE`): the exit
/// status and standard error. Both are set up before exec, so no write can win a race.
fn tool_with_lost_stdout(how: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    use std::os::unix::process::CommandExt;
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::close(fds[0]) };
    let (closed, write_end) = (how == "closed", fds[1]);
    let mut cmd = Command::new(program(TOOL));
    for var in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
        cmd.env_remove(var);
    }
    cmd.args(args).env("LD_LIBRARY_PATH", lib_dir()).envs(env.iter().copied()).stdin(std::process::Stdio::null());
    // Only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            if closed {
                libc::close(1);
            } else {
                libc::dup2(write_end, 1);
            }
            libc::close(write_end);
            Ok(())
        });
    }
    let out = cmd.stdout(std::process::Stdio::inherit()).output().expect("the tool runs");
    unsafe { libc::close(write_end) };
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Issue 15 item 9: `list >&-` and `list | head -c 0` with SIGPIPE ignored exited 0, and
/// `verify > /dev/full` exited 2, though no line was written. Each is exit 74 with the reason.
#[test]
fn a_closed_or_broken_standard_output_and_a_full_disk_under_verify_exit_74() {
    let sim = sim(3);
    let url = sim.url();
    let env = [("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)];
    assert_eq!(
        tool_with_lost_stdout("closed", &["list", "ex"], &env),
        (74, "vault-parts: cannot write standard output: Bad file descriptor\n".to_owned())
    );
    assert_eq!(
        tool_with_lost_stdout("broken", &["list", "ex"], &env),
        (74, "vault-parts: cannot write standard output: Broken pipe\n".to_owned())
    );
    let files = Dir::new("vault_parts_cli_lost", "verify");
    let path = files.file("f.bin", SIZE_12MB);
    // Part 1 of 2 uploaded: verify would exit 1 (resumable) with its lines written.
    let vsim = upload_sim(vec![Upload::from_file("res", "alice", &path, PART, 1).unwrap()]);
    let vurl = vsim.url();
    let venv = [("VAULT_URL", vurl.as_str()), ("VAULT_SESSION_ID", ALICE)];
    assert_eq!(tool(&["verify", "res", &path], &venv).code, 1);
    assert_eq!(tool_to_dev_full(&["verify", "res", &path], &venv), (74, DEV_FULL.to_owned()));
}

/// Where a run under [`tool_on_tty`] sends standard output and standard error: one of them
/// on the pseudo-terminal, the other to a pipe (what the Run holds) or a file.
#[derive(Clone, Copy, PartialEq)]
enum Tty {
    /// stderr on the terminal, stdout to a pipe.
    Stderr,
    /// stdout on the terminal, stderr to a pipe.
    Stdout,
}

/// Runs the tool with one stream on a pseudo-terminal (openpty): the exit status, what went to
/// the pipe, and what the terminal received (its "\n" written as "\r\n" by the terminal).
fn tool_on_tty(on: Tty, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    use std::io::Read;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::process::Stdio;
    let (mut master, mut slave) = (-1, -1);
    // SAFETY: openpty writes two descriptors; no name, settings or window size are passed.
    let rc =
        unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null()) };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned here only.
    let (mut master, slave) = unsafe { (std::fs::File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut cmd = Command::new(program(TOOL));
    for var in
        ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"]
    {
        cmd.env_remove(var);
    }
    cmd.args(args).env("LD_LIBRARY_PATH", lib_dir()).envs(env.iter().copied()).stdin(Stdio::null());
    match on {
        Tty::Stderr => cmd.stderr(Stdio::from(slave)).stdout(Stdio::piped()),
        Tty::Stdout => cmd.stdout(Stdio::from(slave)).stderr(Stdio::piped()),
    };
    let child = cmd.spawn().expect("the C program runs");
    // The child holds the only copy of the terminal's side now: reading ends (EIO) when it exits.
    drop(cmd);
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = master.read(&mut buf) {
            seen.extend_from_slice(&buf[..n]);
        }
        String::from_utf8_lossy(&seen).into_owned()
    });
    let out = child.wait_with_output().unwrap();
    let terminal = reader.join().unwrap();
    let piped = if on == Tty::Stderr { &out.stdout } else { &out.stderr };
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(piped).into_owned(), terminal)
}

#[test]
fn list_shows_a_progress_line_on_a_terminal_only() {
    let sim = sim(3);
    let url = sim.url();
    let env = [("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)];
    let table = format!(
        "    part           size  md5\n{}{}{}3 parts, 15728640 bytes\n",
        row("ex", 1, 5242880),
        row("ex", 2, 5242880),
        row("ex", 3, 5242880)
    );
    let (code, stdout, terminal) = tool_on_tty(Tty::Stderr, &["list", "--limit", "2", "ex"], &env);
    assert_eq!((code, stdout.as_str()), (0, table.as_str()), "{terminal}");
    // The first text at once, the last one (drawn however the redraws were throttled), then
    // the line ends.
    assert!(terminal.starts_with("\r0 parts, 0 pages\x1b[K"), "{terminal:?}");
    assert!(terminal.ends_with("\r3 parts, 2 pages\x1b[K\r\n"), "{terminal:?}");

    // stdout on the terminal, stderr a pipe: no progress line, the table as ever.
    let (code, stderr, terminal) = tool_on_tty(Tty::Stdout, &["list", "--limit", "2", "ex"], &env);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(terminal, table.replace('\n', "\r\n"));

    // stderr a file: nothing written to it.
    let files = Dir::new("vault_parts_cli_progress", "list");
    let err_path = files.0.join("stderr.txt");
    let err = std::fs::File::create(&err_path).unwrap();
    let out = Command::new(program(TOOL))
        .args(["list", "ex"])
        .env("LD_LIBRARY_PATH", lib_dir())
        .envs(env.iter().copied())
        .stderr(err)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&err_path).unwrap(), "");
}

#[test]
fn verify_shows_verdicts_of_the_total_and_bytes_hashed_on_a_terminal_only() {
    let files = Dir::new("vault_parts_cli_progress", "verify");
    let path = files.file("f.bin", 5 * PART + 100);
    let sim =
        Sim::start(Config::default().user(ALICE, "alice", false).upload(file_upload("resume", &path, 4, &[]))).unwrap();
    let url = sim.url();
    let env = [("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)];
    let summary = format!(
        "{VERDICT_HEADER}{}{}6 parts: 4 OK, 2 MISSING; {} bytes hashed; resumable: upload 2 parts: 5-6\n",
        verdict_row(5, "MISSING", PART, 0, "", ""),
        verdict_row(6, "MISSING", 100, 0, "", ""),
        4 * PART
    );
    // The total read off part 1's verdict (part size from the listing).
    let (code, stdout, terminal) = tool_on_tty(Tty::Stderr, &["verify", "resume", &path], &env);
    assert_eq!((code, stdout.as_str()), (1, summary.as_str()), "{terminal}");
    assert!(terminal.starts_with("\r0 parts verified\x1b[K"), "{terminal:?}");
    assert!(terminal.ends_with("\r6/6 parts verified, 20.0 MiB hashed\x1b[K\r\n"), "{terminal:?}");
    // Known from the start with --part-size.
    let (code, _, terminal) = tool_on_tty(Tty::Stderr, &["verify", "--part-size", "5MiB", "resume", &path], &env);
    assert_eq!(code, 1);
    assert!(terminal.starts_with("\r0/6 parts verified\x1b[K"), "{terminal:?}");
    assert!(terminal.ends_with("\r6/6 parts verified, 20.0 MiB hashed\x1b[K\r\n"), "{terminal:?}");

    let (code, stderr, terminal) = tool_on_tty(Tty::Stdout, &["verify", "resume", &path], &env);
    assert_eq!((code, stderr.as_str()), (1, ""), "no progress line when stderr is not a terminal");
    assert_eq!(terminal, summary.replace('\n', "\r\n"));
}

#[test]
fn a_retry_wait_shows_on_the_progress_line() {
    use vault_sim::{Action, Endpoint, When};
    // A fresh simulator per run: the first page's first request is answered 429, Retry-After: 1.
    let sim = || {
        Sim::start(Config::default().user(ALICE, "alice", false).upload(Upload::new("ex", "alice", 3).fault_on(
            Endpoint::Parts,
            When::Request(1),
            Action::Status { code: 429, body: String::new(), retry_after: Some(1) },
        )))
        .unwrap()
    };
    let first = sim();
    let url = first.url();
    let env = [("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)];
    let (code, stdout, terminal) = tool_on_tty(Tty::Stderr, &["list", "ex"], &env);
    assert_eq!(code, 0, "{terminal}");
    assert!(stdout.ends_with("3 parts, 15728640 bytes\n"), "{stdout}");
    assert!(terminal.starts_with("\r0 parts, 0 pages\x1b[K\r0 parts, 0 pages; retrying in 1.0s\x1b[K"), "{terminal:?}");
    assert!(terminal.ends_with("\r3 parts, 1 page\x1b[K\r\n"), "{terminal:?}");
    // --verbose on the terminal: the log line takes the progress line's place, which comes back.
    let second = sim();
    let url = second.url();
    let env = [("VAULT_URL", url.as_str()), ("VAULT_SESSION_ID", ALICE)];
    let (code, _, terminal) = tool_on_tty(Tty::Stderr, &["list", "--verbose", "ex"], &env);
    assert_eq!(code, 0, "{terminal}");
    assert!(terminal.starts_with("\r0 parts, 0 pages\x1b[K\r\x1b[Kvault-parts: debug: "), "{terminal:?}");
    assert!(terminal.contains("retrying in 1000 ms\r\n\r0 parts, 0 pages; retrying in 1.0s\x1b[K"), "{terminal:?}");
    assert!(terminal.ends_with("\r3 parts, 1 page\x1b[K\r\n"), "{terminal:?}");
}

#[test]
fn verify_prints_the_part_ranges_to_upload_within_a_bound() {
    let files = Dir::new("vault_parts_cli_verify", "ranges");
    // 48 parts of 1 KiB (given with --part-size: small parts keep the test fast), the last one
    // shorter.
    const SMALL: u64 = 1024;
    let path = files.file("f.bin", 47 * SMALL + 100);
    let file_upload = |id: &str, uploaded: u32, faults: &[PartFault]| {
        let mut u = Upload::with_parts(id, "alice", parts_of_file(&path, SMALL, uploaded).unwrap());
        for f in faults {
            u.part_fault(*f);
        }
        u.declared_size(47 * SMALL + 100)
    };
    let mut holes: Vec<PartFault> = vec![PartFault::Missing(7), PartFault::Missing(12), PartFault::WrongMd5(3)];
    // Every even part missing in "sparse": 24 ranges, 20 shown.
    let sparse: Vec<PartFault> = (1..=24).map(|k| PartFault::Missing(2 * k)).collect();
    holes.push(PartFault::WrongSize(20));
    let config = Config::default()
        .user(ALICE, "alice", false)
        .upload(file_upload("gaps", 20, &[PartFault::Missing(7), PartFault::Missing(12)]))
        .upload(file_upload("mixed", 48, &holes))
        .upload(file_upload("sparse", 48, &sparse));
    let sim = Sim::start(config).unwrap();

    let gaps = verify(&sim, ALICE, &["--part-size", "1K", "gaps", &path]);
    assert_eq!(gaps.code, 1, "{}", gaps.stderr);
    let last = gaps.stdout.lines().last().unwrap();
    assert!(last.ends_with("resumable: upload 30 parts: 7, 12, 21-48"), "{last}");

    let mixed = verify(&sim, ALICE, &["--part-size", "1K", "mixed", &path]);
    assert_eq!(mixed.code, 2, "{}", mixed.stderr);
    let last = mixed.stdout.lines().last().unwrap();
    assert!(last.ends_with("mismatches found: upload 4 parts: 3, 7, 12, 20 (2 again)"), "{last}");

    let sparse = verify(&sim, ALICE, &["--part-size", "1K", "sparse", &path]);
    assert_eq!(sparse.code, 1, "{}", sparse.stderr);
    let last = sparse.stdout.lines().last().unwrap();
    let shown: Vec<String> = (1..=20).map(|k| (2 * k).to_string()).collect();
    assert!(
        last.ends_with(&format!("resumable: upload 24 parts: {}, ... (4 more ranges)", shown.join(", "))),
        "{last}"
    );
}

/// A plain-HTTP server that answers any first bytes with HTTP 400 text, then closes.
fn plain_400_server() -> (String, std::thread::JoinHandle<()>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request");
            let _ = conn.shutdown(std::net::Shutdown::Write);
            // Read the rest, so that closing sends no reset before the client read the answer.
            let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            while matches!(conn.read(&mut buf), Ok(1..)) {}
        }
    });
    (format!("127.0.0.1:{port}"), handle)
}

#[test]
fn https_at_a_plain_http_server_says_so() {
    let sim = sim(3);
    let host = sim.url().trim_start_matches("http://").trim_end_matches('/').to_owned();
    let https = format!("https://{host}");
    // vault-sim closes the connection on the ClientHello: a network failure, as before.
    let r = tool(&["list", "--max-attempts", "1", "ex"], &[("VAULT_URL", &https), ("VAULT_SESSION_ID", ALICE)]);
    assert_eq!(r.code, 17, "10 + E_NETWORK: {}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "vault-parts: network error: page 1 (GET {https}/api/v25.3/services/file_staging/upload/ex/parts): \
             connection failed: the server closed the connection during the TLS handshake: is it a plain-HTTP \
             server? (http:// is accepted for loopback hosts)\n"
        )
    );
    assert_eq!(r.stdout, "");

    // A server that answers the ClientHello with HTTP text: rustls's corrupt message, a TLS
    // failure, with the same hint.
    let (host, server) = plain_400_server();
    let https = format!("https://{host}");
    let r = tool(&["list", "--max-attempts", "1", "ex"], &[("VAULT_URL", &https), ("VAULT_SESSION_ID", ALICE)]);
    server.join().unwrap();
    assert_eq!(r.code, 19, "10 + E_TLS: {}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "vault-parts: TLS error: page 1 (GET {https}/api/v25.3/services/file_staging/upload/ex/parts): TLS \
             failure: the server's answer to the TLS handshake is not TLS (received corrupt message of type \
             InvalidContentType): is it a plain-HTTP server? (http:// is accepted for loopback hosts)\n"
        )
    );
}
