//! vault_parts_verify_* through the C ABI: tests-c/verify*.c against local files and vault-sim
//! sessions listing those files' true (or damaged) parts; natively, with ASan+UBSan, and under
//! valgrind.

mod harness;

use harness::files::Dir;
use harness::{scenario, Run};
use md5::{Digest, Md5};
use std::io::{Seek, SeekFrom, Write};
use vault_sim::file_upload::parts_of_file;
use vault_sim::{Config, PartFault, SimPart, Upload};

const SID: &str = "SID-verify-c-3e9d1f07";
const VERIFY: &str = "tests-c/verify.c";
const K64: u64 = 64 * 1024;
/// Vault's smallest part but the last: a part size read off a listing is at least this.
const MIB5: u64 = 5 << 20;

fn bytes(len: u64, seed: u64) -> Vec<u8> {
    vault_sim::file_upload::pseudo_random_bytes(len, seed)
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// An upload of the file at `path`, created for its size, listing its first `uploaded` true
/// parts, then changed by `faults`.
fn upload(id: &str, path: &str, part_size: u64, uploaded: u32, faults: &[PartFault]) -> Upload {
    let mut u = Upload::with_parts(id, "alice", parts_of_file(path, part_size, uploaded).unwrap());
    for f in faults {
        u.part_fault(*f);
    }
    declared(u, path)
}

/// `u` created for the size of the file at `path`, as a session of that file is (vault-sim
/// declares the listed parts' sum by default). verify asks for the declared size first.
fn declared(u: Upload, path: &str) -> Upload {
    u.declared_size(std::fs::metadata(path).unwrap().len())
}

fn config(uploads: Vec<Upload>) -> impl Fn() -> Config {
    move || uploads.iter().fold(Config::default().user(SID, "alice", false), |c, u| c.upload(u.clone()))
}

fn args(sim: &vault_sim::Sim, id: &str, path: &str, part_size: u64, opts: &[&str]) -> Vec<String> {
    let mut a = vec![sim.url(), SID.to_owned(), id.to_owned(), path.to_owned(), part_size.to_string()];
    a.extend(opts.iter().map(|s| s.to_string()));
    a
}

fn verdicts(run: &Run) -> Vec<String> {
    run.stdout.lines().filter(|l| l.starts_with("verdict ")).map(str::to_owned).collect()
}

fn line(n: u64, status: &str, part_size: u64, local: u64, remote: u64, lmd5: &str, rmd5: &str) -> String {
    let dash = |s: &str| if s.is_empty() { "-".to_owned() } else { s.to_owned() };
    format!("verdict {n} {status} {} {local} {remote} {} {}", (n - 1) * part_size, dash(lmd5), dash(rmd5))
}

fn assert_contract(run: &Run) {
    assert_eq!(run.code, 0, "contract check failed ({:?}):\n{}{}", run.mode, run.stdout, run.stderr);
    assert!(!run.stdout.contains(SID), "session ID leaked:\n{}", run.stdout);
}

/// Every verdict; then with vault_parts_verify_set_hash_all every local part's verdict carries
/// its local MD5, MISSING and mismatched parts included (users hashed them again), EXTRA parts
/// none.
#[test]
fn every_verdict_with_a_shorter_last_part_and_with_hash_all() {
    let dir = Dir::new("vp-verify-c", "every");
    let path = dir.file("f", 6 * K64 + 1000);
    let data = std::fs::read(&path).unwrap();
    let faults = [
        PartFault::WrongMd5(2),
        PartFault::WrongSize(3),
        PartFault::Missing(4),
        PartFault::NoMd5(5),
        PartFault::Extra(2),
    ];
    let u = upload("up-every", &path, K64, 7, &faults);
    let listed: Vec<SimPart> = u.listed.clone().unwrap();
    let md5 = |n: u64, len: u64| md5_hex(&data[((n - 1) * K64) as usize..((n - 1) * K64 + len) as usize]);
    let rmd5 = |n: u32| listed.iter().find(|p| p.number == n).unwrap().md5.clone().unwrap_or_default();
    assert_ne!(rmd5(2), md5(2, K64));
    for hash_all in [false, true] {
        // The local MD5 of a part hashed only with hash_all.
        let all = |n: u64| if hash_all { md5(n, K64) } else { String::new() };
        let want = vec![
            line(1, "OK", K64, K64, K64, &md5(1, K64), &md5(1, K64)),
            line(2, "MD5_MISMATCH", K64, K64, K64, &md5(2, K64), &rmd5(2)),
            line(3, "SIZE_MISMATCH", K64, K64, K64 + 1, &all(3), &md5(3, K64)),
            line(4, "MISSING", K64, K64, 0, &all(4), ""),
            line(5, "UNVERIFIED", K64, K64, K64, &all(5), ""),
            line(6, "OK", K64, K64, K64, &md5(6, K64), &md5(6, K64)),
            line(7, "OK", K64, 1000, 1000, &md5(7, 1000), &md5(7, 1000)),
            line(8, "EXTRA", K64, 0, 1000, "", &rmd5(8)),
            line(9, "EXTRA", K64, 0, 1000, "", &rmd5(9)),
        ];
        let hashed = if hash_all { 6 * K64 + 1000 } else { 3 * K64 + 1000 };
        let opts: &[&str] = if hash_all {
            &["limit=2", "threads=2", "log=1", "hash_all=1"]
        } else {
            &["limit=2", "threads=1", "log=1"]
        };
        scenario(
            config(vec![u.clone()]),
            VERIFY,
            |s| args(s, "up-every", &path, K64, opts),
            |sim, run| {
                assert_contract(run);
                assert_eq!(verdicts(run), want, "({:?}, hash_all {hash_all})", run.mode);
                assert_eq!(run.field("result"), "DONE");
                assert_eq!(run.field("summary"), format!("3 1 1 1 1 2 {hashed} 2 0"));
                assert_eq!(sim.requests().len(), 5, "the details, then 8 parts listed (part 4 is not), 2 a page");
                assert!(
                    run.log_lines().iter().any(|l| l.starts_with("log 3 page 1: 2 parts")),
                    "{:?}",
                    run.log_lines()
                );
            },
        );
    }
}

#[test]
fn an_exact_multiple_with_the_part_size_read_off_the_listing() {
    let dir = Dir::new("vp-verify-c", "exact");
    let path = dir.file("f", 3 * MIB5);
    let data = std::fs::read(&path).unwrap();
    let u = upload("up-exact", &path, MIB5, 2, &[]);
    scenario(
        config(vec![u]),
        VERIFY,
        |s| args(s, "up-exact", &path, 0, &["limit=1000"]),
        |_, run| {
            assert_contract(run);
            let m = |n: usize| md5_hex(&data[(n - 1) * MIB5 as usize..n * MIB5 as usize]);
            let want: Vec<String> = (1..=2)
                .map(|n| line(n as u64, "OK", MIB5, MIB5, MIB5, &m(n), &m(n)))
                .chain([line(3, "MISSING", MIB5, MIB5, 0, "", "")])
                .collect();
            assert_eq!(verdicts(run), want, "({:?})", run.mode);
            assert_eq!(run.field("summary"), format!("2 1 0 0 0 0 {} 3 1", 2 * MIB5));
        },
    );
}

/// Part 1 alone tells the part size when the file is longer: it cannot be the last part.
#[test]
fn part_1_alone_tells_the_part_size() {
    let dir = Dir::new("vp-verify-c", "part1");
    let path = dir.file("f", MIB5 + 1000);
    let data = std::fs::read(&path).unwrap();
    let u = upload("up-part1", &path, MIB5, 1, &[]);
    scenario(
        config(vec![u]),
        VERIFY,
        |s| args(s, "up-part1", &path, 0, &[]),
        |_, run| {
            assert_contract(run);
            let m1 = md5_hex(&data[..MIB5 as usize]);
            assert_eq!(
                verdicts(run),
                [line(1, "OK", MIB5, MIB5, MIB5, &m1, &m1), line(2, "MISSING", MIB5, 1000, 0, "", "")],
                "({:?})",
                run.mode
            );
            assert_eq!(run.field("result"), "DONE");
        },
    );
}

/// A session just created lists no parts: part size 0 cuts the file as an upload would (the
/// smallest whole MiB from 8 MiB within 2,000 parts).
#[test]
fn a_session_with_no_parts_gets_the_librarys_part_size() {
    const MIB: u64 = 1 << 20;
    let dir = Dir::new("vp-verify-c", "noparts");
    let path = dir.0.join("sparse").to_string_lossy().into_owned();
    std::fs::File::create(&path).unwrap().set_len(20 * MIB).unwrap();
    scenario(
        config(vec![Upload::from_file("up-none", "alice", &path, 8 * MIB, 0).unwrap()]),
        VERIFY,
        |s| args(s, "up-none", &path, 0, &[]),
        |sim, run| {
            assert_contract(run);
            let want = [(1, 8 * MIB), (2, 8 * MIB), (3, 4 * MIB)]
                .map(|(n, len)| format!("verdict {n} MISSING {} {len} 0 - -", (n - 1) * 8 * MIB));
            assert_eq!(verdicts(run), want, "({:?})", run.mode);
            assert_eq!(run.field("summary"), "0 3 0 0 0 0 0 1 1");
            assert_eq!(sim.requests().len(), 2, "the details, then one page, empty");
        },
    );
}

#[test]
fn a_part_size_the_listing_cannot_tell_is_asked_for() {
    let dir = Dir::new("vp-verify-c", "noinfer");
    let path = dir.file("f", 3 * K64);
    let u = upload("up-one", &path, K64, 2, &[PartFault::Missing(1)]);
    scenario(
        config(vec![u]),
        VERIFY,
        |s| args(s, "up-one", &path, 0, &[]),
        |_, run| {
            assert_contract(run);
            assert!(verdicts(run).is_empty());
            assert_eq!(run.field("result"), "E_ARG");
            assert_eq!(
                run.field("errmsg"),
                "part_size is 0 and the listing cannot tell it (the listing has only part 2, which may be the last): pass the part size"
            );
        },
    );
}

/// Issue 15 item 6: parts 1 and 2 of 1 byte each turned a 20 MB file into 20 million verdicts
/// (the CLI printed 1.8 GB). A part size below Vault's 5 MiB minimum is the server's error.
#[test]
fn an_implied_part_size_below_vaults_minimum_is_a_protocol_error() {
    let dir = Dir::new("vp-verify-c", "flood");
    let path = dir.0.join("sparse").to_string_lossy().into_owned();
    std::fs::File::create(&path).unwrap().set_len(20_000_000).unwrap();
    let parts = (1..=2).map(|number| SimPart { number, size: 1, md5: Some(md5_hex(b"\0")) }).collect();
    scenario(
        config(vec![declared(Upload::with_parts("up-flood", "alice", parts), &path)]),
        VERIFY,
        |s| args(s, "up-flood", &path, 0, &[]),
        |_, run| {
            assert_contract(run);
            assert_eq!(verdicts(run), Vec::<String>::new(), "({:?})", run.mode);
            assert_eq!(run.field("result"), "E_PROTOCOL");
            assert_eq!(
                run.field("errmsg"),
                "the listing implies a part size of 1 bytes, below Vault's minimum of 5242880 for every part but the last (the 20000000-byte file would be 20000000 parts)"
            );
            assert_eq!(run.field("summary"), "0 0 0 0 0 0 0 0 0");
        },
    );
}

/// A given part size may be anything that cuts the file into at most 100,000 parts (the cap on
/// listed part numbers): past it, E_ARG before anything is fetched.
#[test]
fn a_given_part_size_past_the_part_cap_is_refused() {
    let dir = Dir::new("vp-verify-c", "cap-local");
    let path = dir.file("f", 100_001);
    scenario(
        config(vec![upload("up-capl", &path, 1, 1, &[])]),
        VERIFY,
        |s| args(s, "up-capl", &path, 1, &[]),
        |sim, run| {
            assert_contract(run);
            assert_eq!(run.field("result"), "E_ARG");
            assert_eq!(
                run.field("errmsg"),
                "part_size 1 cuts the 100001-byte file into 100001 parts: at most 100000 (Vault allows 9616)"
            );
            assert_eq!(sim.requests().len(), 0);
        },
    );
}

#[test]
fn a_part_listed_twice_is_a_protocol_error() {
    let dir = Dir::new("vp-verify-c", "dup");
    let path = dir.file("f", 3 * K64);
    let u = upload("up-dup", &path, K64, 3, &[PartFault::Duplicate(2)]);
    scenario(
        config(vec![u]),
        VERIFY,
        |s| args(s, "up-dup", &path, K64, &["limit=1000"]),
        |_, run| {
            assert_contract(run);
            assert_eq!(run.field("result"), "E_PROTOCOL");
            assert_eq!(run.field("errmsg"), "the listing has part 2 twice");
            // Parts 1 and 2 may stream out before the listing reaches the second part 2 (part
            // 2's digest can be in before the next listed part is read): at most those, in order.
            let v = verdicts(run);
            let streamed = ["verdict 1 OK ", "verdict 2 OK "];
            assert!(v.len() <= 2 && v.iter().zip(streamed).all(|(l, w)| l.starts_with(w)), "({:?}) {v:?}", run.mode);
        },
    );
}

#[test]
fn a_sparse_file_over_4_gib() {
    const PART: u64 = 64 << 20;
    let dir = Dir::new("vp-verify-c", "sparse");
    let path = dir.0.join("big").to_string_lossy().into_owned();
    let head = bytes(4096, 1);
    let tail = bytes((1 << 20) + 17, 2);
    let size = (4u64 << 30) + tail.len() as u64;
    {
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&head).unwrap();
        f.seek(SeekFrom::Start(4 << 30)).unwrap();
        f.write_all(&tail).unwrap();
    }
    assert_eq!(std::fs::metadata(&path).unwrap().len(), size);
    let mut first = head.clone();
    first.resize(PART as usize, 0);
    let (m1, m65) = (md5_hex(&first), md5_hex(&tail));
    let parts = vec![
        SimPart { number: 1, size: PART, md5: Some(m1.clone()) },
        SimPart { number: 65, size: tail.len() as u64, md5: Some(m65.clone()) },
    ];
    scenario(
        config(vec![declared(Upload::with_parts("up-big", "alice", parts), &path)]),
        VERIFY,
        |s| args(s, "up-big", &path, PART, &[]),
        |_, run| {
            assert_contract(run);
            let v = verdicts(run);
            assert_eq!(v.len(), 65);
            assert_eq!(v[0], line(1, "OK", PART, PART, PART, &m1, &m1));
            assert_eq!(v[1], line(2, "MISSING", PART, PART, 0, "", ""));
            assert_eq!(v[64], line(65, "OK", PART, tail.len() as u64, tail.len() as u64, &m65, &m65));
            assert!(v[64].starts_with("verdict 65 OK 4294967296 1048593 "), "{}", v[64]);
            assert_eq!(run.field("summary"), format!("2 63 0 0 0 0 {} 2 1", PART + tail.len() as u64));
        },
    );
}

#[test]
fn local_file_errors() {
    let dir = Dir::new("vp-verify-c", "io");
    let empty = dir.file("empty", 0);
    let root = std::process::Command::new("id").arg("-u").output().map(|o| o.stdout == b"0\n").unwrap_or(true);
    let unreadable = dir.file("unreadable", 100);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&unreadable, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let missing = dir.0.join("missing").to_string_lossy().into_owned();
    let dirpath = dir.0.to_string_lossy().into_owned();
    let mut cases = vec![
        (missing.clone(), "E_IO", format!("{missing}: cannot open: No such file or directory (os error 2)")),
        (dirpath.clone(), "E_IO", format!("{dirpath} is a directory")),
        ("/dev/null".to_owned(), "E_IO", "/dev/null is not a regular file".to_owned()),
        (empty.clone(), "E_ARG", format!("{empty} is empty: there is nothing to verify")),
    ];
    // Root reads any file whatever its mode bits, but not a write-only sysctl: procfs refuses
    // the open with EACCES to root too, so the no-permission case runs as root (CI) as well.
    let unreadable = if root { "/proc/sys/vm/drop_caches".to_owned() } else { unreadable };
    cases.push((unreadable.clone(), "E_IO", format!("{unreadable}: cannot open: Permission denied (os error 13)")));
    let u = Upload::new("up-io", "alice", 2);
    for (path, code, msg) in cases {
        scenario(
            config(vec![u.clone()]),
            VERIFY,
            |s| args(s, "up-io", &path, K64, &[]),
            |sim, run| {
                assert_contract(run);
                assert_eq!(run.field("result"), code, "{path}");
                assert_eq!(run.field("errmsg"), msg);
                assert_eq!(sim.requests().len(), 0, "a bad file fetches nothing");
            },
        );
    }
}

#[test]
fn a_file_rewritten_while_verifying() {
    let dir = Dir::new("vp-verify-c", "rewrite");
    let path = dir.file("f", 40 * K64);
    let u = upload("up-rw", &path, K64, 40, &[]);
    let pristine = std::fs::read(&path).unwrap();
    scenario(
        config(vec![u]),
        VERIFY,
        |s| {
            // Restored with an old timestamp, so the rewrite's is sure to differ even with
            // coarse file-system clocks.
            std::fs::write(&path, &pristine).unwrap();
            let old = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
            std::fs::File::options().write(true).open(&path).unwrap().set_modified(old).unwrap();
            args(s, "up-rw", &path, K64, &["limit=5", "rewrite_after=1"])
        },
        |_, run| {
            assert_contract(run);
            assert_eq!(run.field("result"), "E_IO");
            assert!(
                run.field("errmsg").starts_with(&format!("{path}: changed while verifying (")),
                "{}",
                run.field("errmsg")
            );
            // Parts hashed before the rewrite may still come out; the error replaces DONE.
            assert!(!verdicts(run).is_empty());
        },
    );
}

#[test]
fn freeing_a_verifier_mid_way_joins_its_threads() {
    let dir = Dir::new("vp-verify-c", "free");
    let path = dir.file("f", 64 * K64);
    let u = upload("up-free", &path, K64, 64, &[]);
    scenario(
        config(vec![u]),
        VERIFY,
        |s| args(s, "up-free", &path, K64, &["limit=7", "threads=4", "free_after=2"]),
        |_, run| {
            assert_contract(run);
            assert_eq!(verdicts(run).len(), 2);
            assert_eq!(run.field("result"), "FREED");
        },
    );
}

#[test]
fn eight_threads_each_verify_their_own_file() {
    let dir = Dir::new("vp-verify-c", "threads");
    let mut uploads = Vec::new();
    let mut jobs = Vec::new();
    for i in 1..=8u32 {
        let path = dir.file(&format!("f{i}"), u64::from(i) * K64 + 99);
        let faults: Vec<PartFault> = if i % 2 == 0 { vec![PartFault::WrongMd5(1)] } else { vec![] };
        uploads.push(upload(&format!("up-t{i}"), &path, K64, i + 1, &faults));
        let (ok, bad) = if i % 2 == 0 { (i, 1) } else { (i + 1, 0) };
        jobs.push(format!("up-t{i}:{path}:{ok}:{bad}"));
    }
    scenario(
        config(uploads),
        "tests-c/verify_threads.c",
        |s| [s.url(), SID.to_owned(), K64.to_string()].into_iter().chain(jobs.iter().cloned()).collect(),
        |sim, run| {
            assert_eq!(run.code, 0, "({:?}):\n{}{}", run.mode, run.stdout, run.stderr);
            assert_eq!(run.stdout.lines().filter(|l| l.ends_with(" DONE")).count(), 8, "{}", run.stdout);
            // Each verifier asks for its session's details; listing i has i + 1 parts, 3 a page.
            assert_eq!(sim.requests().len(), 8 + 17);
        },
    );
}

#[test]
fn arguments_and_lifecycle() {
    let dir = Dir::new("vp-verify-c", "api");
    let path = dir.file("f", 3 * K64);
    let u = upload("up-api", &path, K64, 3, &[]);
    // Every listing page of this one: 503 with Retry-After: 2 (the details request succeeds).
    let unavailable = upload("up-api-503", &path, K64, 3, &[]).fault(
        vault_sim::When::Always,
        vault_sim::Action::Status { code: 503, body: String::new(), retry_after: Some(2) },
    );
    scenario(
        config(vec![u, unavailable]),
        "tests-c/verify_api.c",
        |s| args(s, "up-api", &path, K64, &["up-api-503"]),
        |_, run| {
            assert_eq!(run.code, 0, "({:?}):\n{}{}", run.mode, run.stdout, run.stderr);
            assert!(run.stdout.contains("verify_api: 0 failed checks"));
        },
    );
}

/// Many small parts through several threads, under every mode.
#[test]
fn many_parts_and_threads() {
    let dir = Dir::new("vp-verify-c", "many");
    let path = dir.file("f", 100 * 4096 + 1);
    let u = upload("up-many", &path, 4096, 101, &[PartFault::WrongMd5(77)]);
    scenario(
        config(vec![u]),
        VERIFY,
        |s| args(s, "up-many", &path, 4096, &["limit=10", "threads=3"]),
        |_, run| {
            assert_contract(run);
            assert_eq!(run.field("result"), "DONE");
            assert_eq!(run.field("summary"), "100 0 0 1 0 0 409601 77 1");
        },
    );
}

/// The C++ wrapper (include/vault_parts.hpp): range-for over the verdicts (typed, with their
/// names) of a verifier that took a listing (and its log function) over, its statistics, its
/// interrupt from another thread, setters chained on temporaries, string_view arguments, and
/// its exceptions with the HTTP status and Retry-After of a 503.
#[test]
fn cxx_wrapper_verifies_with_range_for() {
    const OTHER: &str = "SID-verify-other-77c0";
    let dir = Dir::new("vp-verify-c", "cxx");
    // Part size 0 (the wrapper's default): read off the listing, so parts of Vault's minimum.
    let path = dir.file("f", 2 * MIB5 + 100);
    let missing = dir.0.join("nope").to_string_lossy().into_owned();
    let u = upload("up-cxx", &path, MIB5, 2, &[PartFault::WrongMd5(2)]);
    // Every listing page of this one: 503 with Retry-After: 2 (the details request succeeds).
    let unavailable = upload("up-cxx-503", &path, MIB5, 2, &[]).fault(
        vault_sim::When::Always,
        vault_sim::Action::Status { code: 503, body: String::new(), retry_after: Some(2) },
    );
    scenario(
        move || config(vec![u.clone(), unavailable.clone()])().user(OTHER, "bob", false),
        "tests-c/cxx_wrapper_verify.cpp",
        |s| {
            vec![s.url(), SID.into(), "up-cxx".into(), path.clone(), OTHER.into(), missing.clone(), "up-cxx-503".into()]
        },
        |_, run| {
            assert_eq!(run.code, 0, "{:?}:\n{}{}", run.mode, run.stdout, run.stderr);
            let want: String =
                [(1, 0, "OK", MIB5, MIB5), (2, 3, "MD5_MISMATCH", MIB5, MIB5), (3, 1, "MISSING", 100, 0)]
                    .iter()
                    .map(|(n, s, name, l, r)| format!("verdict {n} {s} {name} {l} {r}\n"))
                    .collect();
            assert_eq!(
                run.stdout,
                format!(
                    "{want}summary 1 1 0 1 0 0 {} 2 1\ncxx_wrapper_verify: 3 verdicts, 0 failed checks\n",
                    2 * MIB5
                )
            );
        },
    );
}

/// The verifier's own errors (the local file, a part listed twice) reach the listing's log
/// callback as its final error line, once, redacted like everything else.
#[test]
fn verifier_errors_are_logged_and_redacted_like_listing_errors() {
    let dir = Dir::new("vp-verify-c", "logged");
    let path = dir.file("f", 4 * K64);
    let secret_path = dir.0.join(format!("{SID}-missing")).to_string_lossy().into_owned();
    let shown = secret_path.replace(SID, "[redacted]");
    let dup = upload("up-dup", &path, K64, 4, &[PartFault::Duplicate(2)]);
    let plain = upload("up-plain", &path, K64, 4, &[]);
    for (id, file, code, msg) in [
        (
            "up-plain",
            secret_path.as_str(),
            "E_IO",
            format!("{shown}: cannot open: No such file or directory (os error 2)"),
        ),
        ("up-dup", path.as_str(), "E_PROTOCOL", "the listing has part 2 twice".to_owned()),
    ] {
        scenario(
            config(vec![dup.clone(), plain.clone()]),
            VERIFY,
            |s| args(s, id, file, K64, &["log=1"]),
            |_, run| {
                assert_contract(run);
                assert_eq!(run.field("result"), code);
                assert_eq!(run.field("errmsg"), msg);
                let errors: Vec<&str> = run.log_lines().into_iter().filter(|l| l.starts_with("log 1 ")).collect();
                assert_eq!(errors, [format!("log 1 {msg}")], "{}", run.stdout);
            },
        );
    }
}

/// A path is caller text: in errmsg and the error's log line it is redacted, neutralised and
/// cut like every other outside text (it used to be copied raw: 6 KB messages, a newline that
/// forges a line, the session ID whole).
#[test]
fn a_path_in_a_file_error_is_redacted_neutralised_and_cut() {
    let dir = Dir::new("vp-verify-c", "pathtext");
    let long = format!("{}/{}x", dir.0.display(), "a/".repeat(3000));
    let forged = format!("{}/x\nFAKE LINE\u{202E}y", dir.0.display());
    let secret = format!("{}/{SID}-file", dir.0.display());
    let u = Upload::new("up-pt", "alice", 2);
    for (path, want) in [
        (long.clone(), None),
        (
            forged,
            Some(format!("{}/x FAKE LINE y: cannot open: No such file or directory (os error 2)", dir.0.display())),
        ),
        (
            secret,
            Some(format!("{}/[redacted]-file: cannot open: No such file or directory (os error 2)", dir.0.display())),
        ),
    ] {
        scenario(
            config(vec![u.clone()]),
            VERIFY,
            |s| args(s, "up-pt", &path, K64, &["log=1"]),
            |_, run| {
                assert_contract(run);
                assert_eq!(run.field("result"), "E_IO");
                assert!(!run.stdout.contains("\nFAKE"), "a forged line:\n{}", run.stdout);
                let msg = run.field("errmsg");
                assert!(msg.len() <= 1024, "errmsg is {} bytes", msg.len());
                match &want {
                    Some(w) => assert_eq!(msg, w),
                    None => assert!(
                        msg.contains("...[cut ") && msg.ends_with("x: cannot open: File name too long (os error 36)"),
                        "{msg}"
                    ),
                }
                let logged = run.log_lines();
                assert_eq!(logged.len(), 1, "the error is logged once: {logged:?}");
                assert_eq!(logged[0], format!("log 1 {msg}"));
            },
        );
    }
}

/// A listing naming a part past the cap (100000) is refused: without the cap a hostile
/// listing made the verifier keep every number it named (320 MB for 2.9 million parts, before
/// the first verdict) and ask for up to four billion verdicts.
#[test]
fn a_part_number_past_the_cap_is_a_protocol_error() {
    let dir = Dir::new("vp-verify-c", "cap");
    let path = dir.file("f", 3 * K64);
    let mut parts = parts_of_file(&path, K64, 2).unwrap();
    parts.push(SimPart { number: 100_001, size: K64, md5: None });
    let u = declared(Upload::with_parts("up-cap", "alice", parts), &path);
    scenario(
        config(vec![u]),
        VERIFY,
        |s| args(s, "up-cap", &path, K64, &["limit=1"]),
        |_, run| {
            assert_contract(run);
            assert_eq!(run.field("result"), "E_PROTOCOL");
            assert_eq!(run.field("errmsg"), "the listing has part 100001: Vault sessions have at most 100000 parts");
            let v = verdicts(run);
            assert!(v.len() <= 2 && v.iter().all(|l| l.contains(" OK ")), "{v:?}");
        },
    );
}

/// Issue 14: verify asks for the session's details first (one GET of .../upload/{id}, before
/// the listing), as the upload does: a file of another size than the session was created for
/// is VAULT_PARTS_E_CONFLICT (14), with the upload's message, no verdict, and no listing.
#[test]
fn a_declared_size_other_than_the_files_is_a_conflict() {
    let dir = Dir::new("vp-verify-c", "declared");
    let path = dir.file("f", 3 * K64 + 5);
    let listed = upload("up-size", &path, K64, 2, &[]);
    for (declared, part_size) in [(3 * K64 + 6, K64), (3 * K64 + 4, 0), (1, 0)] {
        let u = listed.clone().declared_size(declared);
        scenario(
            config(vec![u]),
            VERIFY,
            |s| args(s, "up-size", &path, part_size, &["log=1", "hash_all=1"]),
            |sim, run| {
                assert_contract(run);
                let ctx = format!("({:?}, declared {declared}, part size {part_size})", run.mode);
                assert_eq!((run.field("result"), run.field("code")), ("E_CONFLICT", "14"), "{ctx}");
                let msg = format!(
                    "this file cannot complete this session: the session was created for {declared} bytes, the file \
                     has {}; nothing was sent",
                    3 * K64 + 5
                );
                assert_eq!(run.field("errmsg"), msg, "{ctx}");
                assert!(!run.field("errmsg").contains("up-size"), "no upload session ID in the message");
                assert_eq!(run.field("error_type"), "", "{ctx}: not Vault's error");
                assert!(verdicts(run).is_empty(), "{ctx}");
                assert_eq!(run.field("summary"), "0 0 0 0 0 0 0 0 0", "{ctx}");
                let errors: Vec<&str> = run.log_lines().into_iter().filter(|l| l.starts_with("log 1 ")).collect();
                assert_eq!(errors, [format!("log 1 {msg}")], "{ctx}: logged once");
                let requests = sim.requests();
                let seen: Vec<(&str, &str)> = requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
                assert_eq!(
                    seen,
                    [("GET", "/api/v25.3/services/file_staging/upload/up-size")],
                    "{ctx}: the details only"
                );
            },
        );
    }
}

/// Issue 14: part size 0 on a session with no parts (vault-sim's --upload-file with UPLOADED
/// 0): every verdict MISSING, cut at the part size the upload would choose for this file (here
/// past 2,000 parts of 8 MiB, so 9 MiB: 1,778 parts), after the details and one empty page.
#[test]
fn part_size_0_on_a_session_with_no_parts_cuts_as_the_upload_would() {
    const MIB: u64 = 1 << 20;
    let dir = Dir::new("vp-verify-c", "zero-none");
    let path = dir.0.join("sparse").to_string_lossy().into_owned();
    let size = 2000 * 8 * MIB + 1;
    std::fs::File::create(&path).unwrap().set_len(size).unwrap();
    let parts = size.div_ceil(9 * MIB);
    assert_eq!(parts, 1778);
    scenario(
        config(vec![Upload::from_file("up-zero", "alice", &path, 8 * MIB, 0).unwrap()]),
        VERIFY,
        |s| args(s, "up-zero", &path, 0, &["limit=1000"]),
        |sim, run| {
            assert_contract(run);
            assert_eq!(run.field("result"), "DONE", "({:?}) {}", run.mode, run.field("errmsg"));
            let v = verdicts(run);
            assert_eq!(v.len() as u64, parts, "({:?})", run.mode);
            for (i, l) in v.iter().enumerate() {
                let n = i as u64 + 1;
                let len = if n == parts { size - (parts - 1) * 9 * MIB } else { 9 * MIB };
                assert_eq!(l, &format!("verdict {n} MISSING {} {len} 0 - -", (n - 1) * 9 * MIB));
            }
            assert_eq!(run.field("summary"), format!("0 {parts} 0 0 0 0 0 1 1"));
            let requests = sim.requests();
            let seen: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
            assert_eq!(
                seen,
                [
                    "/api/v25.3/services/file_staging/upload/up-zero",
                    "/api/v25.3/services/file_staging/upload/up-zero/parts"
                ],
                "the details, then one empty page"
            );
        },
    );
}

/// Issue 14: part size 0 with only part 1 uploaded (--upload-file with UPLOADED 1) and the
/// file longer than part 1: part 1's size is the part size, part 1 OK, the rest MISSING.
#[test]
fn part_size_0_with_only_part_1_uploaded() {
    let dir = Dir::new("vp-verify-c", "zero-one");
    let part = MIB5 + 3;
    let path = dir.file("f", 2 * part + 10);
    let data = std::fs::read(&path).unwrap();
    let m1 = md5_hex(&data[..part as usize]);
    scenario(
        config(vec![Upload::from_file("up-one1", "alice", &path, part, 1).unwrap()]),
        VERIFY,
        |s| args(s, "up-one1", &path, 0, &["threads=2"]),
        |sim, run| {
            assert_contract(run);
            assert_eq!(
                verdicts(run),
                [
                    line(1, "OK", part, part, part, &m1, &m1),
                    line(2, "MISSING", part, part, 0, "", ""),
                    line(3, "MISSING", part, 10, 0, "", ""),
                ],
                "({:?})",
                run.mode
            );
            assert_eq!(run.field("result"), "DONE");
            assert_eq!(run.field("summary"), format!("1 2 0 0 0 0 {part} 2 1"));
            assert_eq!(sim.requests().len(), 2, "the details, then one page");
        },
    );
}

/// Issue 14: part size 0 on a file that fits in one part: with only part 1 uploaded, part 1 is
/// the whole file (one verdict, OK); on the same session with no parts, the upload's part size
/// (8 MiB) covers it (one verdict, MISSING). Either way the details, then one page.
#[test]
fn part_size_0_on_a_single_part_file() {
    const MIB: u64 = 1 << 20;
    let dir = Dir::new("vp-verify-c", "zero-single");
    let size = 3 * K64 + 7;
    let path = dir.file("f", size);
    let m = md5_hex(&std::fs::read(&path).unwrap());
    for uploaded in [1, 0] {
        scenario(
            config(vec![Upload::from_file("up-single", "alice", &path, 8 * MIB, uploaded).unwrap()]),
            VERIFY,
            |s| args(s, "up-single", &path, 0, &[]),
            |sim, run| {
                assert_contract(run);
                let ctx = format!("({:?}, {uploaded} part uploaded)", run.mode);
                let (want, summary) = match uploaded {
                    1 => (line(1, "OK", size, size, size, &m, &m), format!("1 0 0 0 0 0 {size} 0 1")),
                    _ => (line(1, "MISSING", size, size, 0, "", ""), "0 1 0 0 0 0 0 1 1".to_owned()),
                };
                assert_eq!(verdicts(run), [want], "{ctx}");
                assert_eq!(run.field("result"), "DONE", "{ctx}: {}", run.field("errmsg"));
                assert_eq!(run.field("summary"), summary, "{ctx}");
                let requests = sim.requests();
                let seen: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
                assert_eq!(
                    seen,
                    [
                        "/api/v25.3/services/file_staging/upload/up-single",
                        "/api/v25.3/services/file_staging/upload/up-single/parts"
                    ],
                    "{ctx}: the details, then one page"
                );
            },
        );
    }
}
