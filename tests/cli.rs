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
    u
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
            "{VERDICT_HEADER}{}{}6 parts: 4 OK, 2 MISSING; {} bytes hashed; resumable: upload 2 parts from part 5\n",
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
            "{VERDICT_HEADER}{}6 parts: 5 OK, 1 MISSING; {} bytes hashed; resumable: upload 1 part from part 2\n",
            verdict_row(2, "MISSING", PART, 0, "", ""),
            all_hashed - PART
        )
    );

    let bad = verify(&sim, ALICE, &["bad", &path]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert_eq!(
        bad.stdout,
        format!(
            "{VERDICT_HEADER}{}{}6 parts: 4 OK, 1 SIZE_MISMATCH, 1 MD5_MISMATCH; {} bytes hashed; mismatches found: upload 2 parts from part 2 (2 again)\n",
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
    assert_eq!(requests.len(), 3, "--limit=2: 6 parts in 3 pages");
    assert!(requests.iter().all(|q| q.header("x-vaultapi-clientid") == Some("cli-verify")));

    // A part size that contradicts the listed sizes: SIZE_MISMATCH verdicts, exit 2.
    let wrong_size = verify(&sim, ALICE, &["--part-size", "2621440", "up", &path]);
    assert_eq!(wrong_size.code, 2, "{}", wrong_size.stderr);
    assert!(wrong_size.stdout.contains(&verdict_row(1, "SIZE_MISMATCH", PART / 2, PART, "", &true_md5s(&path)[0])));
    assert!(
        wrong_size.stdout.ends_with(
            "11 parts: 5 MISSING, 6 SIZE_MISMATCH; 0 bytes hashed; mismatches found: upload 11 parts from part 1 (6 again)\n"
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
        (&["--part-size", "1M", &path, "/u/a.bin"][..], "part_size 1048576"),
        (&["--part-size", "51MiB", &path, "/u/a.bin"], "part_size 53477376"),
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
        (&["--part-size=4MiB", "x", &path], "part_size 4194304"),
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

    // --json: the library's refusal is also a JSON object on stdout.
    let j = upload_cmd(&sim, ALICE, "upload", &["--json", "--part-size", "1M", &path, "/u/a.bin"]);
    assert_eq!(j.code, 64, "{}", j.stderr);
    let v: serde_json::Value = serde_json::from_str(j.stdout.trim_end()).unwrap();
    assert_eq!(v["error"]["code"], 1);
    assert_eq!(v["error"]["name"], "VAULT_PARTS_E_ARG");
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
        assert!(!e.contains_key("http_status"), "an upload handle has no HTTP status accessor");
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
