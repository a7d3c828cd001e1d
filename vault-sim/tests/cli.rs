//! The vault-sim command line: its help lists every form, and its flags configure the
//! upload family (part sizes, job delay and poll window, aimed faults) as the Rust API does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SIM: &str = env!("CARGO_BIN_EXE_vault-sim");

#[test]
fn help_documents_every_form() {
    let out = Command::new(SIM).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for form in [
        "--upload <ID:OWNER:PARTS[:PART_SIZE[:LAST_SIZE]]>",
        "--upload-file <ID:OWNER:PATH:PART_SIZE:UPLOADED>",
        "--part-fault <ID:FAULT>",
        "ID:WHEN:ACTION",
        "ID:KIND:WHEN:ACTION",
        "new:KIND:WHEN:ACTION",
        "create:WHEN:ACTION",
        "sessions:WHEN:ACTION",
        "reset_mid_body",
        "echo_md5",
        "echo_size",
        "job=STATUS",
        "--min-part-size <BYTES>",
        "--max-part-size <BYTES>",
        "--max-sessions <N>",
        "--job-delay-ms <MS>",
        "--job-poll-window-ms <MS>",
        "--session-ids <FORM>",
        "--relative-links",
        "--tls-ca-out <PATH>",
        "--url-file <PATH>",
    ] {
        assert!(help.contains(form), "--help lacks {form}:\n{help}");
    }
}

#[test]
fn bad_flags_exit_2_with_a_reason() {
    for (args, reason) in [
        (&["--fault", "u1:put:x:close"][..], "bad WHEN"),
        (&["--fault", "nope:1:close"], "names unknown upload \"nope\""),
        (&["--user", "only-a-token"], "expected TOKEN:NAME"),
        (&["--session-ids", "base64"], "expected hex or dotted"),
        (&["--port", "70000"], "70000"),
    ] {
        let out = Command::new(SIM).args(args).stdin(Stdio::null()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(reason), "{args:?}: {stderr}");
    }
}

/// A running vault-sim, killed on drop.
struct Running(Child, String);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(SIM).args(args).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("vault-sim listening on http://").expect(&line).to_owned();
    Running(child, url)
}

/// One request on a fresh connection: (status, body).
fn call(sim: &Running, method: &str, target: &str, headers: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(&sim.1).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: x\r\nAuthorization: tok\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    (head[9..12].parse().unwrap(), body.to_owned())
}

#[test]
fn flags_configure_the_upload_family() {
    let dir = std::env::temp_dir().join(format!("vault-sim-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("f.bin");
    std::fs::write(&path, vault_sim::file_upload::pseudo_random_bytes(2500, 4)).unwrap();
    let upload_file = format!("pre:alice:{}:1000:1", path.display());
    let sim = start(&[
        "--user",
        "tok:alice",
        "--upload-file",
        &upload_file,
        "--min-part-size",
        "1000",
        "--job-poll-window-ms",
        "60000",
        "--fault",
        "pre:put:1:echo_size",
        "--fault",
        "pre:commit:1:job=TIMEOUT",
        "--fault",
        "create:1:status=503",
        "--max-sessions",
        "2",
    ]);
    let base = "/api/v25.3/services/file_staging/upload";
    let bytes = std::fs::read(&path).unwrap();
    let part = |n: u32| format!("X-VaultAPI-FilePartNumber: {n}\r\n");
    let (_, echoed) = call(&sim, "PUT", &format!("{base}/pre"), &part(2), &bytes[1000..2000]);
    assert!(echoed.contains(r#""size":1001,"part_number":2"#), "echo_size on the first PUT: {echoed}");
    let (_, small) = call(&sim, "PUT", &format!("{base}/pre"), &part(3), &bytes[2000..2400]);
    assert!(small.contains("at least 1000 bytes"), "--min-part-size: {small}");
    let (_, last) = call(&sim, "PUT", &format!("{base}/pre"), &part(3), &bytes[2000..]);
    assert!(last.contains(r#""size":500,"part_number":3"#), "{last}");
    let (_, commit) = call(&sim, "POST", &format!("{base}/pre"), "", b"");
    let job: u64 = commit.split("\"job_id\":").nth(1).unwrap().trim_end_matches("}}").parse().unwrap();
    let (_, status) = call(&sim, "GET", &format!("/api/v25.3/services/jobs/{job}"), "", b"");
    assert!(status.contains(r#""status":"TIMEOUT""#), "{status}");
    let (_, again) = call(&sim, "GET", &format!("/api/v25.3/services/jobs/{job}"), "", b"");
    assert!(again.contains("API_LIMIT_EXCEEDED") && again.contains("once every 60000 ms"), "{again}");
    let form = b"path=/u/alice/new&size=10";
    assert_eq!(call(&sim, "POST", base, "", form).0, 503, "create:1:status=503");
    let (_, created) = call(&sim, "POST", base, "", form);
    assert!(created.contains(r#""uploaded_parts":0"#), "{created}");
    let (_, capped) = call(&sim, "POST", base, "", form);
    assert!(capped.contains("OPERATION_NOT_ALLOWED"), "--max-sessions 2 (pre and the new one): {capped}");
    std::fs::remove_dir_all(&dir).unwrap();
}
