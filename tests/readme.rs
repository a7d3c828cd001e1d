//! Every fenced C, C++ and Python example in README.md is a complete program: each is
//! extracted as written, built against include/ and the freshly built library, run against
//! vault-sim, and must print every part ("NUMBER SIZE MD5" lines) and exit 0; with a session
//! ID Vault rejects it must exit 1 with one explanation on stderr (no crash, no terminate).

mod harness;

use harness::{lib_dir, run, Mode, Run};
use std::path::{Path, PathBuf};
use std::process::Command;
use vault_sim::{Config, Sim, Upload};

const SID: &str = "SID-readme-4c1f9e22a7";
const UPLOAD: &str = "readme-up";

/// The (language, code) of each fenced block in `markdown` tagged c, cpp or python.
fn examples(markdown: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match current.as_mut() {
            Some(_) if line.trim_end() == "```" => found.push(current.take().unwrap()),
            Some((_, code)) => {
                code.push_str(line);
                code.push('\n');
            }
            None => {
                if let Some(lang) = line.strip_prefix("```") {
                    let lang = lang.trim();
                    if ["c", "cpp", "python"].contains(&lang) {
                        current = Some((lang.to_owned(), String::new()));
                    } else if !lang.is_empty() {
                        // Another language: skip to its closing fence.
                        current = Some(("skip".to_owned(), String::new()));
                    }
                }
            }
        }
    }
    assert!(current.is_none(), "README.md has an unclosed code fence");
    found.retain(|(lang, _)| lang != "skip");
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

fn run_example(cmd: &[String], sim: &Sim, sid: &str) -> Run {
    let mut args: Vec<String> = cmd[1..].to_vec();
    args.push(UPLOAD.to_owned());
    let url = sim.url();
    run(Mode::Native, &PathBuf::from(&cmd[0]), &args, &[("VAULT_URL", &url), ("VAULT_SESSION_ID", sid)])
}

#[test]
fn every_readme_example_builds_runs_and_prints_every_part() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let found = examples(&readme);
    for lang in ["c", "cpp", "python"] {
        assert!(found.iter().any(|(l, _)| l == lang), "README.md has no {lang} example");
    }
    let dir = lib_dir().join("readme-examples");
    std::fs::create_dir_all(&dir).unwrap();
    let upload = Upload::new(UPLOAD, "alice", 4);
    let sim = Sim::start(Config::default().user(SID, "alice", false).upload(upload.clone())).unwrap();
    let expected: String =
        vault_sim::expected_parts(&upload).iter().map(|(n, size, md5)| format!("{n} {size} {md5}\n")).collect();

    for (index, (lang, code)) in found.iter().enumerate() {
        let cmd = build(&dir, index, lang, code);
        let ok = run_example(&cmd, &sim, SID);
        assert_eq!(
            (ok.code, ok.stdout.as_str()),
            (0, expected.as_str()),
            "README example {index} ({lang}):\n{}",
            ok.stderr
        );
        assert_eq!(ok.stderr, "", "README example {index} ({lang})");

        let rejected = run_example(&cmd, &sim, "SID-nobody");
        assert_eq!(rejected.code, 1, "README example {index} ({lang}) on a rejected session:\n{}", rejected.stderr);
        assert_eq!(rejected.stdout, "");
        assert!(rejected.stderr.contains("INVALID_SESSION_ID"), "README example {index} ({lang}): {}", rejected.stderr);
        assert_eq!(rejected.stderr.lines().count(), 1, "README example {index} ({lang}): {}", rejected.stderr);

        let bad_url = run(
            Mode::Native,
            &PathBuf::from(&cmd[0]),
            &[cmd[1..].to_vec(), vec![UPLOAD.to_owned()]].concat(),
            &[("VAULT_URL", "ftp://nowhere"), ("VAULT_SESSION_ID", SID)],
        );
        assert_eq!(bad_url.code, 1, "README example {index} ({lang}) with a bad URL:\n{}", bad_url.stderr);
        assert!(bad_url.stderr.contains("vault_url"), "README example {index} ({lang}): {}", bad_url.stderr);
    }
}
