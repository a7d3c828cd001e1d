//! Builds the C programs in tests-c/ and tools/ against include/vault_parts.h and the
//! libvault_parts.so cargo just built, and runs them: natively, and under valgrind when it is
//! installed, each run against a fresh vault-sim so both see the same server.
#![allow(dead_code)]

pub mod files;
pub mod raw;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use vault_sim::{Config, Sim, Upload};

/// The directory holding the freshly built cdylib: `cargo test` rebuilds it next to the test
/// binary (target/<profile>/deps); the copy one level up may be stale.
pub fn lib_dir() -> PathBuf {
    let dir = std::env::current_exe().unwrap().parent().unwrap().to_path_buf();
    // Programs record the SONAME (libvault_parts.so.MAJOR), which cargo does not create.
    let soname = dir.join(concat!("libvault_parts.so.", env!("CARGO_PKG_VERSION_MAJOR")));
    if std::fs::symlink_metadata(&soname).is_err() {
        let _ = std::os::unix::fs::symlink("libvault_parts.so", &soname);
    }
    dir
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// How a program is built and run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    Native,
    /// Under valgrind: 0 errors and no definite leaks, or the run fails.
    Valgrind,
    /// The C program built with -fsanitize=address,undefined: any report fails the run.
    Sanitized,
}

impl Mode {
    /// Native, sanitized and valgrind. Only VAULT_PARTS_VALGRIND=0 leaves valgrind out (an
    /// explicit choice); a machine without valgrind fails the tests that would run it, rather
    /// than passing with the mode silently gone (.ci/run installs it).
    pub fn all() -> Vec<Mode> {
        let mut modes = vec![Mode::Native, Mode::Sanitized];
        if valgrind_wanted() {
            modes.push(Mode::Valgrind);
        }
        modes
    }

    /// Timing bounds are stretched under valgrind, which runs code ~20-50x slower.
    pub fn slack(self) -> Duration {
        match self {
            Mode::Native | Mode::Sanitized => Duration::from_secs(2),
            Mode::Valgrind => Duration::from_secs(30),
        }
    }
}

/// False only for VAULT_PARTS_VALGRIND=0; wanted and missing is a failure.
fn valgrind_wanted() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        if std::env::var("VAULT_PARTS_VALGRIND").as_deref() == Ok("0") {
            return false;
        }
        let found = Command::new("valgrind").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success());
        assert!(found, "valgrind not found: install it (.ci/run does), or set VAULT_PARTS_VALGRIND=0 to leave it out");
        true
    })
}

/// Compiles `source` (relative to the crate root) once per test binary; returns the executable.
pub fn program(source: &str) -> PathBuf {
    program_for(source, false)
}

/// The executable for `source` as `mode` runs it.
pub fn program_for(source: &str, sanitized: bool) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<(String, bool), PathBuf>>> = OnceLock::new();
    // Held while compiling: running an executable another thread's linker is still writing
    // fails with ETXTBSY. A panic elsewhere must not poison the cache for other tests.
    let mut built = BUILT.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    built.entry((source.to_owned(), sanitized)).or_insert_with(|| compile(source, sanitized)).clone()
}

fn compile(source: &str, sanitized: bool) -> PathBuf {
    let src = root().join(source);
    let cpp = source.ends_with(".cpp");
    let test_bin = std::env::current_exe().unwrap();
    let out_dir = lib_dir().join(format!("c-tests-{}", test_bin.file_stem().unwrap().to_string_lossy()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let stem = Path::new(source).file_stem().unwrap().to_string_lossy().into_owned();
    let exe = out_dir.join(if sanitized { format!("{stem}-asan") } else { stem });
    // cc::Build outside a build script: target, host, opt level and out dir must be given.
    let compiler = cc::Build::new()
        .cargo_metadata(false)
        .target(env!("VAULT_PARTS_BUILD_TARGET"))
        .host(env!("VAULT_PARTS_BUILD_HOST"))
        .opt_level(0)
        .debug(true)
        .out_dir(&out_dir)
        .cpp(cpp)
        .get_compiler();
    let mut cmd = compiler.to_command();
    // The C++ wrapper needs C++17; everything else proves the C header alone is C99/C++11 clean.
    let std = match (cpp, source.contains("wrapper")) {
        (true, true) => "-std=c++17",
        (true, false) => "-std=c++11",
        (false, _) => "-std=c99",
    };
    cmd.arg(std)
        .args(["-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .arg("-I")
        .arg(root().join("include"))
        .arg("-I")
        .arg(root().join("tests-c"))
        .arg(&src)
        .arg("-o")
        .arg(&exe)
        .arg("-L")
        .arg(lib_dir())
        .arg(format!("-Wl,--disable-new-dtags,-rpath,{}", lib_dir().display()))
        .args(["-lvault_parts", "-lpthread"]);
    if sanitized {
        cmd.args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-fno-sanitize-recover=all"]);
    }
    let out = cmd.output().expect("the C compiler runs");
    assert!(
        out.status.success(),
        "compiling {source} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// What a C program did.
#[derive(Debug)]
pub struct Run {
    pub mode: Mode,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// The value of the first "KEY value" line of the list program's report.
    pub fn field(&self, key: &str) -> &str {
        let prefix = format!("{key} ");
        self.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix).or_else(|| (l == key).then_some("")))
            .unwrap_or_else(|| panic!("no {key:?} line in output:\n{}", self.stdout))
    }

    /// Every "part ..." line, joined.
    pub fn parts(&self) -> String {
        self.stdout.lines().filter(|l| l.starts_with("part ")).map(|l| format!("{l}\n")).collect()
    }

    pub fn log_lines(&self) -> Vec<&str> {
        self.stdout.lines().filter(|l| l.starts_with("log ")).collect()
    }
}

/// Runs the program in `mode`, with `env` added. Under valgrind an error or definite leak
/// exits 99, which the caller's status assertion then reports.
pub fn run(mode: Mode, exe: &Path, args: &[String], env: &[(&str, &str)]) -> Run {
    let mut cmd = match mode {
        Mode::Native => Command::new(exe),
        Mode::Sanitized => {
            let mut c = Command::new(exe);
            c.env("ASAN_OPTIONS", "detect_leaks=1:exitcode=98")
                .env("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:exitcode=98");
            c
        }
        Mode::Valgrind => {
            let mut c = Command::new("valgrind");
            c.args([
                "--quiet",
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite",
                "--error-exitcode=99",
            ])
            .arg(exe);
            c
        }
    };
    // Cargo's LD_LIBRARY_PATH for tests outranks the rpath: point it at the fresh library.
    // A proxy from the environment must not intercept loopback test traffic; a test that wants
    // one passes it in `env`.
    for var in
        ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"]
    {
        cmd.env_remove(var);
    }
    cmd.args(args).env("LD_LIBRARY_PATH", lib_dir()).envs(env.iter().copied()).stdin(Stdio::null());
    let started = Instant::now();
    let out = cmd.output().expect("the C program runs");
    Run {
        mode,
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// For each mode: start a fresh simulator from `config`, run `source` with the arguments
/// `args` makes from it, and hand both to `check`.
pub fn scenario(
    config: impl Fn() -> Config,
    source: &str,
    args: impl Fn(&Sim) -> Vec<String>,
    check: impl Fn(&Sim, &Run),
) {
    for mode in Mode::all() {
        let exe = program_for(source, mode == Mode::Sanitized);
        // A config may name a port chosen just before (see tests/faults.rs): one retry covers
        // another process taking it in between.
        let sim = Sim::start(config()).or_else(|_| Sim::start(config())).expect("vault-sim starts");
        let run = run(mode, &exe, &stretch_timeouts(mode, args(&sim)), &[]);
        if mode == Mode::Valgrind && run.code == 99 {
            panic!("valgrind found errors or definite leaks in {source}:\n{}", run.stderr);
        }
        if mode == Mode::Sanitized && (run.code == 98 || run.stderr.contains("Sanitizer")) {
            panic!("the sanitizers reported a problem in {source}:\n{}", run.stderr);
        }
        check(&sim, &run);
    }
}

/// Under valgrind the library runs 20-50x slower: a 300 ms attempt can expire while it is still
/// connecting, which changes what the server sees. Per-attempt timeouts given to
/// tests-c/list.c ("timeout=MS", and the listing's "deadline=MS") are stretched 10x there; the scenarios' time bounds have the
/// mode's slack for it.
pub fn stretch_timeouts(mode: Mode, args: Vec<String>) -> Vec<String> {
    if mode != Mode::Valgrind {
        return args;
    }
    args.into_iter()
        .map(|a| match a.split_once('=') {
            Some((key @ ("timeout" | "deadline"), ms)) if ms.parse::<u64>().is_ok() => {
                format!("{key}={}", ms.parse::<u64>().unwrap() * 10)
            }
            _ => a,
        })
        .collect()
}

/// The "part N SIZE MD5" lines the list program prints for every part of `upload`.
pub fn expected_parts(upload: &Upload) -> String {
    vault_sim::expected_parts(upload).iter().map(|(n, size, md5)| format!("part {n} {size} {md5}\n")).collect()
}

/// Arguments for tests-c/list.c.
pub fn list_args(sim: &Sim, session: &str, upload: &str, options: &[&str]) -> Vec<String> {
    let mut args = vec![sim.url(), session.to_owned(), upload.to_owned()];
    args.extend(options.iter().map(|s| s.to_string()));
    args
}
