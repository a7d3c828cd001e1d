//! Every fenced C, C++ and Python example in README.md is a complete program: each is
//! extracted as written, built against include/ and the freshly built library, run against
//! vault-sim, and must print every part ("NUMBER SIZE MD5" lines) and exit 0; with a session
//! ID Vault rejects it must exit 1 with one explanation on stderr (no crash, no terminate).
//!
//! A block whose info string has a second word is another kind of example: "```c resume" takes
//! UPLOAD_SESSION_ID FILE and must print the parts of a local file to upload (a file-backed
//! session with 4 of its 6 parts uploaded, part 2 corrupted), then "then commit".

mod harness;

use harness::{lib_dir, run, Mode, Run};
use std::path::{Path, PathBuf};
use std::process::Command;
use vault_sim::{Config, PartFault, Sim, Upload};

const SID: &str = "SID-readme-4c1f9e22a7";
const UPLOAD: &str = "readme-up";
const RESUME: &str = "readme-resume";
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
        return vec!["python3".into(), src.display().to_string()];
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

/// What an example of one kind is given and must print.
struct Setup {
    args: Vec<String>,
    expected: String,
}

fn run_example(cmd: &[String], setup: &Setup, url: &str, sid: &str) -> Run {
    let args: Vec<String> = [&cmd[1..], &setup.args[..]].concat();
    run(Mode::Native, &PathBuf::from(&cmd[0]), &args, &[("VAULT_URL", url), ("VAULT_SESSION_ID", sid)])
}

/// A 6-part local file (5 MiB parts, the last 100 bytes) and an upload session listing its
/// first 4 parts, part 2 with a wrong MD5.
fn resume_file(dir: &Path) -> (String, Upload) {
    let path = dir.join("resume.bin");
    std::fs::write(&path, vault_sim::file_upload::pseudo_random_bytes(5 * PART + 100, 7)).unwrap();
    let path = path.display().to_string();
    let parts = vault_sim::file_upload::parts_of_file(&path, PART, 4).unwrap();
    let mut upload = Upload::with_parts(RESUME, "alice", parts);
    upload.part_fault(PartFault::WrongMd5(2));
    (path, upload)
}

#[test]
fn every_readme_example_builds_runs_and_prints_every_part() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let found = examples(&readme);
    for lang in ["c", "cpp", "python"] {
        assert!(found.iter().any(|(l, k, _)| l == lang && k.is_empty()), "README.md has no {lang} listing example");
    }
    assert!(found.iter().any(|(l, k, _)| l == "c" && k == "resume"), "README.md has no C resume example");
    let dir = lib_dir().join("readme-examples");
    std::fs::create_dir_all(&dir).unwrap();
    let upload = Upload::new(UPLOAD, "alice", 4);
    let (file, resume) = resume_file(&dir);
    let sim = Sim::start(Config::default().user(SID, "alice", false).upload(upload.clone()).upload(resume)).unwrap();
    let list = Setup {
        args: vec![UPLOAD.to_owned()],
        expected: vault_sim::expected_parts(&upload)
            .iter()
            .map(|(n, size, md5)| format!("{n} {size} {md5}\n"))
            .collect(),
    };
    let to_upload = Setup {
        args: vec![RESUME.to_owned(), file],
        expected: format!(
            "upload part 2: {PART} bytes at offset {PART}\nupload part 5: {PART} bytes at offset {}\n\
             upload part 6: 100 bytes at offset {}\nthen commit\n",
            4 * PART,
            5 * PART
        ),
    };

    for (index, (lang, kind, code)) in found.iter().enumerate() {
        let setup = match kind.as_str() {
            "" => &list,
            "resume" => &to_upload,
            other => panic!("README example {index} ({lang}) has an unknown kind {other:?}"),
        };
        let cmd = build(&dir, index, lang, code);
        let ok = run_example(&cmd, setup, &sim.url(), SID);
        assert_eq!(
            (ok.code, ok.stdout.as_str()),
            (0, setup.expected.as_str()),
            "README example {index} ({lang}):\n{}",
            ok.stderr
        );
        assert_eq!(ok.stderr, "", "README example {index} ({lang})");

        let rejected = run_example(&cmd, setup, &sim.url(), "SID-nobody-0000");
        assert_eq!(rejected.code, 1, "README example {index} ({lang}) on a rejected session:\n{}", rejected.stderr);
        assert_eq!(rejected.stdout, "");
        assert!(rejected.stderr.contains("INVALID_SESSION_ID"), "README example {index} ({lang}): {}", rejected.stderr);
        assert_eq!(rejected.stderr.lines().count(), 1, "README example {index} ({lang}): {}", rejected.stderr);

        let bad_url = run_example(&cmd, setup, "ftp://nowhere", SID);
        assert_eq!(bad_url.code, 1, "README example {index} ({lang}) with a bad URL:\n{}", bad_url.stderr);
        assert!(bad_url.stderr.contains("vault_url"), "README example {index} ({lang}): {}", bad_url.stderr);
    }
}
