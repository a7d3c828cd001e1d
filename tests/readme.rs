//! Every fenced C, C++ and Python example in README.md is a complete program: each is
//! extracted as written, built against include/ and the freshly built library, and run against
//! a fresh vault-sim; what it prints is compared exactly, and what the server saw is checked.
//! With a session ID Vault rejects every example must exit 1 with one explanation on stderr
//! containing INVALID_SESSION_ID and nothing on stdout (no crash, no terminate); with a bad
//! vault_url, exit 1 naming it.
//!
//! A block's info string is its language, then optionally its kind, which says what the program
//! is given and must print:
//! - no kind (a listing): UPLOAD_SESSION_ID; every part as "NUMBER SIZE MD5", nothing sent.
//! - "upload": FILE STAGING_PATH; a new session: "upload session ID" (the ID vault-sim made),
//!   "part N: SIZE bytes sent" per part (the library's 8 MiB parts), "committed: STAGING_PATH is
//!   on file staging"; the staged file is the local file.
//! - "resume": UPLOAD_SESSION_ID FILE, a file-backed session with 4 of its 6 parts uploaded,
//!   part 2 corrupted: "part N: kept|sent|sent again" per part, then "3 parts kept, 3 sent;
//!   committed: the file is on file staging"; parts 2, 5 and 6 were PUT, the staged file is the
//!   local file.
//! - "verify": the same arguments and session, nothing sent: "to upload: part N, SIZE bytes at
//!   offset OFFSET" per part a resume sends, then "resumable: a resume sends 3 parts and commits".
//!
//! No example may end by telling its user to commit: the upload API commits.

mod harness;

use harness::{lib_dir, run, Mode, Run};
use md5::{Digest, Md5};
use std::path::{Path, PathBuf};
use std::process::Command;
use vault_sim::{Config, PartFault, Sim, Upload};

const SID: &str = "SID-readme-4c1f9e22a7";
const UPLOAD: &str = "readme-up";
const RESUME: &str = "readme-resume";
const RESUME_STAGING: &str = "/u/alice/readme-resume.bin";
/// Where the upload examples commit their new session.
const STAGING: &str = "/u/alice/readme-upload.bin";
const MIB: u64 = 1 << 20;
/// The upload examples' file: two parts of the library's choice (8 MiB) for a new session.
const UPLOAD_SIZE: u64 = 10 * MIB + 100;
/// Parts of Vault's minimum size: the examples read the part size off the listing, and one below
/// it is the server's error.
const PART: u64 = 5 << 20;

/// The (language, kind, code) of each fenced block in `markdown` tagged c, cpp or python; the
/// kind is the info string's second word ("" when there is none).
fn examples(markdown: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut current: Option<(String, String, String)> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            Some(_) if line.trim_end() == "```" => found.push(current.take().unwrap()),
            Some((_, _, code)) => {
                code.push_str(line);
                code.push('\n');
            }
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    let mut words = info.split_whitespace();
                    let (lang, kind) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                    if ["c", "cpp", "python"].contains(&lang) {
                        current = Some((lang.to_owned(), kind.to_owned(), String::new()));
                    } else if !lang.is_empty() {
                        // Another language: skip to its closing fence.
                        current = Some(("skip".to_owned(), String::new(), String::new()));
                    }
                }
            }
        }
    }
    assert!(current.is_none(), "README.md has an unclosed code fence");
    found.retain(|(lang, _, _)| lang != "skip");
    found
}

fn build(dir: &Path, index: usize, lang: &str, code: &str) -> Vec<String> {
    let ext = match lang {
        "c" => "c",
        "cpp" => "cpp",
        _ => "py",
    };
    let src = dir.join(format!("example{index}.{ext}"));
    std::fs::write(&src, code).unwrap();
    if lang == "python" {
        return vec![python_for(code), src.display().to_string()];
    }
    let exe = dir.join(format!("example{index}-{lang}"));
    let (compiler, std) = if lang == "c" { ("cc", "-std=c99") } else { ("c++", "-std=c++17") };
    let out = Command::new(compiler)
        .args([std, "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-I"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/include"))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(lib_dir())
        .arg("-lvault_parts")
        .output()
        .expect("the compiler runs");
    assert!(
        out.status.success(),
        "README example {index} ({lang}) does not compile:\n{code}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    vec![exe.display().to_string()]
}

/// The interpreter for a Python example: the package's examples need the virtual environment
/// `make test` installs it into (VAULT_PARTS_PYTHON, its python), the ctypes one only python3.
fn python_for(code: &str) -> String {
    if !code.contains("import vault_parts") {
        return "python3".into();
    }
    let python = std::env::var("VAULT_PARTS_PYTHON").unwrap_or_default();
    assert!(
        !python.is_empty() && Path::new(&python).exists(),
        "README's vault_parts examples need VAULT_PARTS_PYTHON: the python of a virtual environment the \
         package is installed in (make test sets it; got {python:?})"
    );
    python
}

fn run_example(cmd: &[String], args: &[String], url: &str, sid: &str) -> Run {
    let args: Vec<String> = [&cmd[1..], args].concat();
    run(Mode::Native, &PathBuf::from(&cmd[0]), &args, &[("VAULT_URL", url), ("VAULT_SESSION_ID", sid)])
}

fn md5_hex(data: &[u8]) -> String {
    Md5::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// What the examples are given: the listing's session, the resume's file and session, the new
/// upload's file.
struct Files {
    resume_file: String,
    upload_file: String,
}

/// An example's kind: what it is given, what it must print and what the server must have seen.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    List,
    Upload,
    Resume,
    Verify,
}

impl Kind {
    fn parse(word: &str) -> Option<Kind> {
        match word {
            "" => Some(Kind::List),
            "upload" => Some(Kind::Upload),
            "resume" => Some(Kind::Resume),
            "verify" => Some(Kind::Verify),
            _ => None,
        }
    }

    fn args(self, files: &Files) -> Vec<String> {
        match self {
            Kind::List => vec![UPLOAD.to_owned()],
            Kind::Upload => vec![files.upload_file.clone(), STAGING.to_owned()],
            Kind::Resume | Kind::Verify => vec![RESUME.to_owned(), files.resume_file.clone()],
        }
    }

    /// The exact output of a successful run; `sim` tells the new session's ID.
    fn expected(self, sim: &Sim, listed: &Upload) -> String {
        match self {
            Kind::List => {
                vault_sim::expected_parts(listed).iter().map(|(n, size, md5)| format!("{n} {size} {md5}\n")).collect()
            }
            Kind::Upload => {
                let id = sim.sessions().into_iter().find(|s| s.path == STAGING).map_or_else(String::new, |s| s.id);
                format!(
                    "upload session {id}\npart 1: {} bytes sent\npart 2: {} bytes sent\n\
                     committed: {STAGING} is on file staging\n",
                    8 * MIB,
                    UPLOAD_SIZE - 8 * MIB
                )
            }
            Kind::Resume => "part 1: kept\npart 2: sent again\npart 3: kept\npart 4: kept\npart 5: sent\n\
                             part 6: sent\n3 parts kept, 3 sent; committed: the file is on file staging\n"
                .to_owned(),
            Kind::Verify => format!(
                "to upload: part 2, {PART} bytes at offset {PART}\nto upload: part 5, {PART} bytes at offset {}\n\
                 to upload: part 6, 100 bytes at offset {}\nresumable: a resume sends 3 parts and commits\n",
                4 * PART,
                5 * PART
            ),
        }
    }

    /// What the server saw after a successful run.
    fn check_server(self, sim: &Sim, files: &Files, what: &str) {
        let sent = |method: &str| sim.requests().iter().filter(|r| r.method == method).count();
        let staged_md5 = |path: &str| sim.staged(path).and_then(|f| f.md5());
        match self {
            Kind::List | Kind::Verify => {
                assert_eq!((sent("PUT"), sent("POST")), (0, 0), "{what} sent nothing: {:?}", sim.requests());
            }
            Kind::Upload => {
                let local = md5_hex(&std::fs::read(&files.upload_file).unwrap());
                assert_eq!(staged_md5(STAGING), Some(local), "{what}: the file is on staging");
                let session = sim.sessions().into_iter().find(|s| s.path == STAGING).unwrap();
                assert_eq!(session.put_order, [1, 2], "{what}");
            }
            Kind::Resume => {
                let local = md5_hex(&std::fs::read(&files.resume_file).unwrap());
                assert_eq!(staged_md5(RESUME_STAGING), Some(local), "{what}: the file is on staging");
                assert_eq!(sim.session(RESUME).unwrap().put_order, [2, 5, 6], "{what}");
            }
        }
    }
}

/// A 6-part local file (5 MiB parts, the last 100 bytes) and an upload session listing its
/// first 4 parts, part 2 with a wrong MD5.
fn resume_file(dir: &Path) -> (String, Upload) {
    let path = dir.join("resume.bin");
    std::fs::write(&path, vault_sim::file_upload::pseudo_random_bytes(5 * PART + 100, 7)).unwrap();
    let path = path.display().to_string();
    // The file's parts (and bytes, for a commit), its size declared.
    let mut upload = Upload::from_file(RESUME, "alice", &path, PART, 4).unwrap().staging_path(RESUME_STAGING);
    upload.part_fault(PartFault::WrongMd5(2));
    (path, upload)
}

#[test]
fn every_readme_example_builds_runs_and_prints_what_it_should() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let found = examples(&readme);
    let has = |lang: &str, kind: &str| found.iter().any(|(l, k, _)| l == lang && k == kind);
    for lang in ["c", "cpp", "python"] {
        assert!(has(lang, ""), "README.md has no {lang} listing example");
    }
    for (lang, kind) in [
        ("c", "upload"),
        ("c", "resume"),
        ("c", "verify"),
        ("cpp", "upload"),
        ("cpp", "resume"),
        ("python", "upload"),
        ("python", "resume"),
        ("python", "verify"),
    ] {
        assert!(has(lang, kind), "README.md has no {lang} {kind} example");
    }
    let dir = lib_dir().join("readme-examples");
    std::fs::create_dir_all(&dir).unwrap();
    let listed = Upload::new(UPLOAD, "alice", 4);
    let (resume_file, resume) = resume_file(&dir);
    let upload_file = dir.join("upload.bin");
    std::fs::write(&upload_file, vault_sim::file_upload::pseudo_random_bytes(UPLOAD_SIZE, 11)).unwrap();
    let files = Files { resume_file, upload_file: upload_file.display().to_string() };
    // A fresh simulator per example: the upload and resume examples change its sessions.
    let config = || Config::default().user(SID, "alice", false).upload(listed.clone()).upload(resume.clone());

    for (index, (lang, kind, code)) in found.iter().enumerate() {
        let what = format!("README example {index} ({lang} {kind})");
        let kind = Kind::parse(kind).unwrap_or_else(|| panic!("{what} has an unknown kind"));
        assert!(!code.contains("then commit"), "{what} leaves the commit to its user: the upload API commits");
        let cmd = build(&dir, index, lang, code);
        let sim = Sim::start(config()).unwrap();
        let args = kind.args(&files);
        let ok = run_example(&cmd, &args, &sim.url(), SID);
        assert_eq!((ok.code, ok.stdout.as_str()), (0, kind.expected(&sim, &listed).as_str()), "{what}:\n{}", ok.stderr);
        assert_eq!(ok.stderr, "", "{what}");
        kind.check_server(&sim, &files, &what);

        let rejected = run_example(&cmd, &args, &sim.url(), "SID-nobody-0000");
        assert_eq!(rejected.code, 1, "{what} on a rejected session:\n{}", rejected.stderr);
        assert_eq!(rejected.stdout, "", "{what}");
        assert!(rejected.stderr.contains("INVALID_SESSION_ID"), "{what}: {}", rejected.stderr);
        assert_eq!(rejected.stderr.lines().count(), 1, "{what}: {}", rejected.stderr);

        let bad_url = run_example(&cmd, &args, "ftp://nowhere", SID);
        assert_eq!(bad_url.code, 1, "{what} with a bad URL:\n{}", bad_url.stderr);
        assert!(bad_url.stderr.contains("vault_url"), "{what}: {}", bad_url.stderr);
    }
}
