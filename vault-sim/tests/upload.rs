//! vault-sim's resumable-upload family over real HTTP on loopback: each endpoint, each of
//! Vault's rules, each fault, and what the simulator lets a test observe.

use md5::{Digest, Md5};
use serde_json::{json, Value};
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};
use vault_sim::file_upload::pseudo_random_bytes;
use vault_sim::{Action, Config, Endpoint, SessionIds, SessionState, Sim, Upload, When};

const BASE: &str = "/api/v25.3/services/file_staging/upload";
const ALICE: &str = "tok-alice";
const BOB: &str = "tok-bob";
const ADMIN: &str = "tok-admin";
const KIB: u64 = 1024;

fn users() -> Config {
    Config::default().user(ALICE, "alice", false).user(BOB, "bob", false).user(ADMIN, "root", true)
}

/// The users, parts of at least 1 KiB (but the last), a 2 s poll window.
fn small() -> Config {
    Config { min_part_size: KIB, job_poll_window: Duration::from_secs(2), ..users() }
}

fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// One keep-alive connection sending requests as `token`.
struct Client {
    stream: TcpStream,
    token: &'static str,
    buf: Vec<u8>,
}

impl Client {
    fn new(sim: &Sim, token: &'static str) -> Client {
        let stream = TcpStream::connect(sim.addr()).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        stream.set_nodelay(true).unwrap();
        Client { stream, token, buf: Vec::new() }
    }

    fn head(&self, method: &str, target: &str, headers: &[(&str, String)]) -> String {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if !self.token.is_empty() {
            head += &format!("Authorization: {}\r\n", self.token);
        }
        for (k, v) in headers {
            head += &format!("{k}: {v}\r\n");
        }
        head + "\r\n"
    }

    /// Sends a request (Content-Length added for a non-empty body) and reads its final answer.
    fn send(&mut self, method: &str, target: &str, headers: &[(&str, String)], body: &[u8]) -> io::Result<Answer> {
        let mut headers = headers.to_vec();
        if !body.is_empty() {
            headers.push(("Content-Length", body.len().to_string()));
        }
        let mut out = self.head(method, target, &headers).into_bytes();
        out.extend_from_slice(body);
        self.stream.write_all(&out)?;
        self.answer()
    }

    /// Reads one final answer (skipping 1xx ones).
    fn answer(&mut self) -> io::Result<Answer> {
        loop {
            let answer = self.read_one()?;
            if answer.status >= 200 {
                return Ok(answer);
            }
        }
    }

    fn read_one(&mut self) -> io::Result<Answer> {
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut parsed = httparse::Response::new(&mut headers);
            if let httparse::Status::Complete(len) = parsed.parse(&self.buf).unwrap() {
                let status = parsed.code.unwrap();
                let headers: Vec<(String, String)> = parsed
                    .headers
                    .iter()
                    .map(|h| (h.name.to_owned(), String::from_utf8_lossy(h.value).into_owned()))
                    .collect();
                let want: usize = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                    .map_or(0, |(_, v)| v.parse().unwrap());
                if self.buf.len() >= len + want {
                    let body = self.buf[len..len + want].to_vec();
                    self.buf.drain(..len + want);
                    return Ok(Answer { status, headers, body });
                }
            }
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    fn get(&mut self, target: &str) -> Answer {
        self.send("GET", target, &[], b"").unwrap()
    }

    fn create(&mut self, form: &str) -> Answer {
        let ct = [("Content-Type", "application/x-www-form-urlencoded".to_owned())];
        self.send("POST", BASE, &ct, form.as_bytes()).unwrap()
    }

    /// Creates a session and returns its ID.
    fn new_session(&mut self, path: &str, size: u64) -> String {
        let answer = self.create(&format!("path={path}&size={size}")).json();
        assert_eq!(answer["responseStatus"], "SUCCESS", "{answer}");
        answer["data"]["id"].as_str().unwrap().to_owned()
    }

    fn put(&mut self, id: &str, number: u32, bytes: &[u8]) -> Answer {
        self.put_with(id, number, bytes, &[])
    }

    fn put_with(&mut self, id: &str, number: u32, bytes: &[u8], more: &[(&str, String)]) -> Answer {
        let mut headers = vec![
            ("Content-Type", "application/octet-stream".to_owned()),
            ("X-VaultAPI-FilePartNumber", number.to_string()),
        ];
        headers.extend_from_slice(more);
        self.send("PUT", &format!("{BASE}/{id}"), &headers, bytes).unwrap()
    }

    fn commit(&mut self, id: &str) -> u64 {
        let answer = self.send("POST", &format!("{BASE}/{id}"), &[], b"").unwrap().json();
        assert_eq!(answer["responseStatus"], "SUCCESS", "{answer}");
        answer["data"]["job_id"].as_u64().unwrap()
    }

    fn job(&mut self, job: u64) -> Value {
        self.get(&format!("/api/v25.3/services/jobs/{job}")).json()
    }
}

fn failure(kind: &str, message: &str) -> Value {
    json!({"responseStatus": "FAILURE", "errors": [{"type": kind, "message": message}]})
}

fn error_type(v: &Value) -> &str {
    assert_eq!(v["responseStatus"], "FAILURE", "{v}");
    v["errors"][0]["type"].as_str().unwrap()
}

fn is_date(v: &Value) -> bool {
    let s = v.as_str().unwrap_or("");
    let b = s.as_bytes();
    s.len() == 24
        && s.ends_with('Z')
        && [4, 7].iter().all(|&i| b[i] == b'-')
        && b[10] == b'T'
        && [13, 16].iter().all(|&i| b[i] == b':')
        && b[19] == b'.'
}

#[test]
fn create_answers_as_the_docs_show() {
    let sim = Sim::start(users()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let answer = alice.create("path=%2Fu%2Falice%2Fbig+file.bin&size=104857600&overwrite=true");
    assert_eq!(answer.status, 200);
    let v = answer.json();
    let data = &v["data"];
    let id = data["id"].as_str().unwrap();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{id}");
    for date in ["expiration_date", "created_date", "last_uploaded_date"] {
        assert!(is_date(&data[date]), "{date}: {}", data[date]);
    }
    let mut expected = json!({
        "path": "/u/alice/big file.bin", "name": "big file.bin", "id": id, "owner": 1000001,
        "uploaded_parts": 0, "size": 104857600, "uploaded": 0, "overwrite": true,
    });
    for date in ["expiration_date", "created_date", "last_uploaded_date"] {
        expected[date] = data[date].clone();
    }
    assert_eq!(v, json!({"responseStatus": "SUCCESS", "data": expected}));
    let keys: Vec<&str> = data.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 11);
    let text = String::from_utf8(answer.body.clone()).unwrap();
    assert!(
        text.starts_with(r#"{"responseStatus":"SUCCESS","data":{"path":"/u/alice/big file.bin","name":"#),
        "{text}"
    );
    let sessions = sim.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!((sessions[0].id.as_str(), sessions[0].size, sessions[0].overwrite), (id, 104857600, true));
    assert_eq!(sessions[0].state, SessionState::Open);
    let second = alice.new_session("/u/alice/other", 10);
    assert_ne!(second, id, "a new ID per session");
    let form = sim.requests()[0].body.clone().unwrap();
    assert_eq!(form, b"path=%2Fu%2Falice%2Fbig+file.bin&size=104857600&overwrite=true", "small bodies are kept");
}

#[test]
fn create_refuses_bad_forms_and_bad_tokens() {
    let sim = Sim::start(users()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let required = |name: &str| failure("PARAMETER_REQUIRED", &format!("Missing required parameter [{name}]."));
    let invalid =
        |name: &str, what: &str| failure("INVALID_DATA", &format!("Invalid value for [{name}]: expected {what}."));
    assert_eq!(alice.create("size=10").json(), required("path"));
    assert_eq!(alice.create("path=&size=10").json(), required("path"));
    assert_eq!(alice.create("path=/u/alice/f").json(), required("size"));
    assert_eq!(alice.create("path=/u/alice/f&size=ten").json(), invalid("size", "a number of bytes"));
    assert_eq!(alice.create("path=/u/alice/f&size=0").json(), invalid("size", "a number of bytes"));
    assert_eq!(alice.create("path=/u/alice/f&size=-1").json(), invalid("size", "a number of bytes"));
    assert_eq!(alice.create("path=u/alice/f&size=1").json(), invalid("path", "an absolute path to a file"));
    assert_eq!(alice.create("path=/u/alice/&size=1").json(), invalid("path", "an absolute path to a file"));
    assert_eq!(alice.create("path=/f&size=1&overwrite=yes").json(), invalid("overwrite", "true or false"));
    assert_eq!(
        alice.create("path=/f&size=500000000001").json(),
        failure("INVALID_DATA", "Invalid value for [size]: a file may have at most 500000000000 bytes.")
    );
    assert_eq!(alice.create("path=/f&size=500000000000").json()["responseStatus"], "SUCCESS", "500 GB is allowed");
    let mut nobody = Client::new(&sim, "tok-nobody");
    assert_eq!(nobody.create("path=/f&size=1").json(), failure("INVALID_SESSION_ID", "Invalid or expired session ID."));
    let mut bearer = Client::new(&sim, "Bearer tok-bob");
    assert_eq!(bearer.create("path=/u/bob/f&size=1").json()["data"]["owner"], 1000002);
    assert_eq!(sim.sessions().len(), 2, "only the two accepted creates made sessions");
}

#[test]
fn at_most_50_sessions_are_active() {
    let sim = Sim::start(users()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let ids: Vec<String> = (0..50).map(|i| alice.new_session(&format!("/f{i}"), 10)).collect();
    let mut bob = Client::new(&sim, BOB);
    assert_eq!(
        bob.create("path=/u/bob/f&size=10").json(),
        failure("OPERATION_NOT_ALLOWED", "The Vault already has 50 active upload sessions."),
        "the limit is the whole Vault's"
    );
    let aborted = alice.send("DELETE", &format!("{BASE}/{}", ids[7]), &[], b"").unwrap();
    assert_eq!(aborted.body, br#"{"responseStatus":"SUCCESS"}"#);
    assert_eq!(bob.create("path=/u/bob/f&size=10").json()["responseStatus"], "SUCCESS");
    assert_eq!(sim.sessions().iter().filter(|s| s.state.is_active()).count(), 50);
}

#[test]
fn the_session_cap_is_configurable() {
    let sim = Sim::start(Config { max_sessions: 2, ..users() }.upload(Upload::new("pre", "alice", 1))).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    alice.new_session("/a", 1);
    assert_eq!(error_type(&alice.create("path=/b&size=1").json()), "OPERATION_NOT_ALLOWED", "made at start counts");
}

#[test]
fn details_and_session_lists_follow_ownership() {
    let sim = Sim::start(small().upload(Upload::new("pre", "bob", 2))).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let id = alice.new_session("/u/alice/f", 3000);
    alice.put(&id, 1, &[7; 2000]);
    let details = alice.get(&format!("{BASE}/{id}")).json();
    assert_eq!(details["data"]["uploaded_parts"], 1);
    assert_eq!(details["data"]["uploaded"], 2000);
    assert_eq!(details["data"]["size"], 3000);
    let pre = Client::new(&sim, BOB).get(&format!("{BASE}/pre")).json();
    assert_eq!(
        (&pre["data"]["path"], &pre["data"]["size"], &pre["data"]["uploaded"], &pre["data"]["owner"]),
        (&json!("/u/bob/pre"), &json!(2 * 5 * 1024 * 1024), &json!(2 * 5 * 1024 * 1024), &json!(1000002)),
        "a session made at start declares its parts' sum"
    );
    assert_eq!(
        alice.get(&format!("{BASE}/pre")).json(),
        failure("INSUFFICIENT_ACCESS", "User does not have sufficient privileges to perform the action.")
    );
    assert_eq!(alice.get(&format!("{BASE}/nope")).json(), failure("INVALID_DATA", "Invalid upload session ID."));
    let ids = |token| -> Vec<String> {
        let list = Client::new(&sim, token).get(BASE).json();
        assert_eq!(list["responseStatus"], "SUCCESS");
        list["data"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(ids(ALICE), std::slice::from_ref(&id));
    assert_eq!(ids(BOB), ["pre"]);
    assert_eq!(ids(ADMIN), ["pre".to_owned(), id.clone()], "an admin sees the whole Vault's");
    let root = Client::new(&sim, ADMIN).get(&format!("{BASE}/{id}")).json();
    assert_eq!(root["data"]["id"], id.as_str(), "an admin may read anyone's");
}

#[test]
fn parts_need_their_headers_and_come_in_order() {
    let sim = Sim::start(small()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let id = alice.new_session("/u/alice/f", 2500);
    let part = |n: u32| vec![n as u8; 1024];
    let no_header = alice.send("PUT", &format!("{BASE}/{id}"), &[], &part(1)).unwrap().json();
    assert_eq!(no_header, failure("PARAMETER_REQUIRED", "Missing required header [X-VaultAPI-FilePartNumber]."));
    let range = "Invalid value for [X-VaultAPI-FilePartNumber]: expected a number from 1 to 9616.";
    for bad in ["0", "9617", "x", "-1"] {
        let headers = [("X-VaultAPI-FilePartNumber", bad.to_owned())];
        let answer = alice.send("PUT", &format!("{BASE}/{id}"), &headers, &part(1)).unwrap().json();
        assert_eq!(answer, failure("INVALID_DATA", range), "{bad}");
    }
    let chunked = alice.head(
        "PUT",
        &format!("{BASE}/{id}"),
        &[("X-VaultAPI-FilePartNumber", "1".into()), ("Transfer-Encoding", "chunked".into())],
    );
    alice.stream.write_all(format!("{chunked}5\r\nhello\r\n0\r\n\r\n").as_bytes()).unwrap();
    assert_eq!(
        alice.answer().unwrap().json(),
        failure("PARAMETER_REQUIRED", "Missing required header [Content-Length].")
    );
    let early = alice.put(&id, 2, &part(2)).json();
    assert_eq!(
        early,
        failure("OPERATION_NOT_ALLOWED", "File parts must be uploaded in numerical order: part 2 before part 1.")
    );
    let small_part = alice.put(&id, 1, &[1; 1023]).json();
    assert_eq!(
        small_part,
        failure("INVALID_DATA", "File parts must be at least 1024 bytes, except for the last part.")
    );
    let one = alice.put(&id, 1, &part(1));
    let echo = format!(
        r#"{{"responseStatus":"SUCCESS","data":{{"size":1024,"part_number":1,"part_content_md5":"{}"}}}}"#,
        md5_hex(&part(1))
    );
    assert_eq!(String::from_utf8(one.body).unwrap(), echo);
    assert_eq!(alice.put(&id, 2, &part(2)).json()["data"]["size"], 1024);
    let too_many = alice.put(&id, 3, &[3; 453]).json();
    assert_eq!(too_many, failure("OPERATION_NOT_ALLOWED", "Unable to upload additional file parts/bytes."));
    assert_eq!(alice.put(&id, 3, &[3; 452]).json()["data"]["size"], 452, "the last part may be small");
    let again = alice.put(&id, 2, &[9; 1024]).json();
    assert_eq!(again["data"]["part_content_md5"], md5_hex(&[9; 1024]), "a part number sent again overwrites");
    let listed = alice.get(&format!("{BASE}/{id}/parts")).json();
    let sizes: Vec<(u64, u64, String)> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["part_number"].as_u64().unwrap(),
                p["size"].as_u64().unwrap(),
                p["part_content_md5"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        [(1, 1024, md5_hex(&part(1))), (2, 1024, md5_hex(&[9; 1024])), (3, 452, md5_hex(&[3; 452]))],
        "the listing is made from the stored parts"
    );
    let view = sim.session(&id).unwrap();
    assert_eq!(
        view.put_order,
        [0, 9617, 1, 2, 1, 1, 2, 3, 3, 2],
        "every PUT with a numeric part number, refused ones too"
    );
    assert_eq!(view.max_puts_in_flight, 1);
}

#[test]
fn part_sizes_are_bounded_by_default_and_configurable() {
    let sim = Sim::start(users()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let id = alice.new_session("/u/alice/f", 200 << 20);
    let answer = alice.put(&id, 1, &vec![0; (5 << 20) - 1]).json();
    assert_eq!(answer, failure("INVALID_DATA", "File parts must be at least 5242880 bytes, except for the last part."));
    let answer = alice.put(&id, 1, &vec![0; (50 << 20) + 1]).json();
    assert_eq!(answer, failure("INVALID_DATA", "File parts may be at most 52428800 bytes."));
    assert_eq!(alice.put(&id, 1, &vec![0; 5 << 20]).json()["data"]["size"], 5 << 20);
}

#[test]
fn content_md5_is_checked_in_hex_or_base64() {
    use base64::Engine;
    let sim = Sim::start(small()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let id = alice.new_session("/u/alice/f", 3000);
    let bytes = pseudo_random_bytes(1024, 1);
    let digest = Md5::digest(&bytes);
    let b64 = base64::engine::general_purpose::STANDARD.encode(digest);
    let hex = md5_hex(&bytes);
    let with = |md5: String| [("Content-MD5", md5)];
    assert_eq!(alice.put_with(&id, 1, &bytes, &with(hex.to_uppercase())).json()["data"]["part_content_md5"], hex);
    assert_eq!(alice.put_with(&id, 1, &bytes, &with(b64)).json()["data"]["part_content_md5"], hex);
    let mismatch = alice.put_with(&id, 2, &bytes, &with(md5_hex(b"other"))).json();
    assert_eq!(mismatch, failure("INVALID_DATA", "The Content-MD5 does not match the file part's bytes."));
    let garbage = alice.put_with(&id, 2, &bytes, &with("zz".into())).json();
    assert_eq!(garbage, failure("INVALID_DATA", "Invalid value for [Content-MD5]: expected an MD5 in hex or base64."));
    assert_eq!(sim.session(&id).unwrap().parts.len(), 1, "refused parts are not stored");
}

/// Uploads `file` in `part`-byte parts to a new session and commits it: (session ID, job).
fn upload_all(alice: &mut Client, path: &str, file: &[u8], part: usize) -> (String, u64) {
    let id = alice.new_session(path, file.len() as u64);
    for (i, bytes) in file.chunks(part).enumerate() {
        let answer = alice.put(&id, i as u32 + 1, bytes).json();
        assert_eq!(answer["data"]["part_content_md5"], md5_hex(bytes));
    }
    let job = alice.commit(&id);
    (id, job)
}

#[test]
fn a_committed_upload_is_on_staging() {
    let sim = Sim::start(small()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let file = pseudo_random_bytes(300 * KIB + 17, 3);
    let (id, job) = upload_all(&mut alice, "/u/alice/file.bin", &file, 100 * 1024);
    let status = alice.job(job);
    assert_eq!(status["responseStatus"], "SUCCESS");
    assert_eq!(status["responseMessage"], "OK");
    let data = &status["data"];
    assert_eq!((data["id"].as_u64(), &data["status"], &data["method"]), (Some(job), &json!("SUCCESS"), &json!("POST")));
    assert_eq!(
        data["links"],
        json!([{"rel": "self", "href": format!("/api/v25.3/services/jobs/{job}"), "method": "GET", "accept": "application/json"}])
    );
    assert_eq!(data["created_by"], 1000001);
    assert!(is_date(&data["created_date"]) && is_date(&data["run_start_date"]) && is_date(&data["run_end_date"]));
    let staged = sim.staged("/u/alice/file.bin").unwrap();
    assert_eq!((staged.size, staged.upload_id.as_str(), staged.job_id), (file.len() as u64, id.as_str(), job));
    assert_eq!(staged.md5().unwrap(), md5_hex(&file));
    assert!(staged.bytes().unwrap() == file);
    let view = sim.session(&id).unwrap();
    assert_eq!(view.state, SessionState::Committed { job_id: job });
    assert_eq!(
        (view.commits.len(), view.jobs.as_slice(), view.put_order.as_slice()),
        (1, &[job][..], &[1, 2, 3, 4][..])
    );
    assert_eq!(
        alice.get(&format!("{BASE}/{id}")).json(),
        failure("INVALID_DATA", "Invalid upload session ID."),
        "gone"
    );
    let puts: Vec<_> = sim.requests().into_iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 4);
    assert_eq!((puts[0].body_len, puts[0].body_md5.as_str()), (102_400, md5_hex(&file[..102_400]).as_str()));
    assert!(puts[0].body.is_none() && puts[0].body_complete, "a 100 KiB body is hashed, not kept");
    assert_eq!(puts[3].body.as_deref(), Some(&file[307_200..]), "the 17-byte tail is kept");
}

#[test]
fn a_job_finds_parts_that_do_not_add_up_and_the_session_goes_on() {
    let sim = Sim::start(small()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let id = alice.new_session("/u/alice/f", 2048);
    alice.put(&id, 1, &[1; 1024]);
    let job = alice.commit(&id);
    assert_eq!(alice.job(job)["data"]["status"], "ERRORS_ENCOUNTERED");
    assert!(sim.staged("/u/alice/f").is_none());
    assert_eq!(sim.session(&id).unwrap().state, SessionState::Open);
    alice.put(&id, 2, &[2; 1024]);
    let second = alice.commit(&id);
    assert_eq!(second, job + 1);
    assert_eq!(alice.job(second)["data"]["status"], "SUCCESS");
    assert_eq!(sim.staged("/u/alice/f").unwrap().md5().unwrap(), md5_hex(&[[1u8; 1024], [2u8; 1024]].concat()));
}

#[test]
fn job_status_is_refused_within_the_poll_window() {
    let sim = Sim::start(small()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let (_, job) = upload_all(&mut alice, "/u/alice/f", &[5; 10], 10);
    let started = Instant::now();
    assert_eq!(alice.job(job)["data"]["status"], "SUCCESS");
    let refused = alice.job(job);
    assert!(started.elapsed() < Duration::from_secs(2), "the second request came inside the 2 s window");
    assert_eq!(error_type(&refused), "API_LIMIT_EXCEEDED");
    let message = refused["errors"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("Job status may be requested once every 2000 ms: wait "), "{message}");
    let wait: u64 = message.split("wait ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!((1..=2000).contains(&wait), "{message}");
    std::thread::sleep(Duration::from_millis(2000));
    assert_eq!(alice.job(job)["data"]["status"], "SUCCESS", "after the window");
    let polls = sim.job(job).unwrap().polls;
    assert_eq!(polls.iter().map(|p| p.refused).collect::<Vec<_>>(), [false, true, false]);
    assert!(polls[2].at - polls[0].at >= Duration::from_secs(2));
}

#[test]
fn a_job_runs_for_its_delay() {
    let delay = Duration::from_secs(3);
    let sim = Sim::start(Config { job_delay: delay, job_poll_window: Duration::ZERO, ..small() }).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let (id, job) = upload_all(&mut alice, "/u/alice/f", &[5; 10], 10);
    let committed = Instant::now();
    let early = alice.job(job);
    assert!(committed.elapsed() < delay, "the first poll came before the job's end");
    let status = early["data"]["status"].as_str().unwrap();
    assert!(status == "SCHEDULED" || status == "RUNNING", "{early}");
    assert!(early["data"].get("run_end_date").is_none(), "{early}");
    assert_eq!(sim.session(&id).unwrap().state, SessionState::Committing { job_id: job });
    assert_eq!(error_type(&alice.put(&id, 1, &[5; 10]).json()), "OPERATION_NOT_ALLOWED", "no parts while committing");
    assert_eq!(
        error_type(&alice.send("POST", &format!("{BASE}/{id}"), &[], b"").unwrap().json()),
        "OPERATION_NOT_ALLOWED"
    );
    std::thread::sleep(delay.saturating_sub(committed.elapsed()));
    assert_eq!(alice.job(job)["data"]["status"], "SUCCESS");
    assert!(sim.staged("/u/alice/f").is_some());
}

#[test]
fn jobs_follow_ownership() {
    let sim = Sim::start(small()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let (_, job) = upload_all(&mut alice, "/u/alice/f", &[5; 10], 10);
    assert_eq!(error_type(&Client::new(&sim, BOB).job(job)), "INSUFFICIENT_ACCESS");
    assert_eq!(Client::new(&sim, ADMIN).job(job)["data"]["status"], "SUCCESS");
    assert_eq!(alice.job(job + 5), failure("INVALID_DATA", "Invalid value for [job_id]: expected the ID of a job."));
    assert_eq!(error_type(&alice.get("/api/v25.3/services/jobs/x").json()), "INVALID_DATA");
}

#[test]
fn abort_purges_the_parts_and_ends_the_session() {
    let sim = Sim::start(small()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let id = alice.new_session("/u/alice/f", 5000);
    alice.put(&id, 1, &[1; 1024]);
    assert_eq!(
        Client::new(&sim, BOB).send("DELETE", &format!("{BASE}/{id}"), &[], b"").unwrap().json(),
        failure("INSUFFICIENT_ACCESS", "User does not have sufficient privileges to perform the action.")
    );
    let answer = alice.send("DELETE", &format!("{BASE}/{id}"), &[], b"").unwrap();
    assert_eq!((answer.status, answer.body.as_slice()), (200, &br#"{"responseStatus":"SUCCESS"}"#[..]));
    let gone = failure("INVALID_DATA", "Invalid upload session ID.");
    assert_eq!(alice.get(&format!("{BASE}/{id}")).json(), gone);
    assert_eq!(alice.get(&format!("{BASE}/{id}/parts")).json(), gone);
    assert_eq!(alice.put(&id, 2, &[2; 1024]).json(), gone);
    assert_eq!(alice.send("DELETE", &format!("{BASE}/{id}"), &[], b"").unwrap().json(), gone);
    let view = sim.session(&id).unwrap();
    assert_eq!((view.state, view.parts.len()), (SessionState::Aborted, 0));
    assert_eq!(alice.get(BASE).json()["data"], json!([]));
}

#[test]
fn a_session_made_from_a_file_is_resumed_and_committed() {
    let dir = std::env::temp_dir().join(format!("vault-sim-resume-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("local.bin");
    let file = pseudo_random_bytes(5 * KIB + 300, 9);
    std::fs::write(&path, &file).unwrap();
    let upload = Upload::from_file("resume1", "alice", path.to_str().unwrap(), 2 * KIB, 1).unwrap();
    let sim = Sim::start(Config { uploads: vec![upload.staging_path("/u/alice/local.bin")], ..small() }).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let details = alice.get(&format!("{BASE}/resume1")).json();
    assert_eq!((&details["data"]["size"], &details["data"]["uploaded_parts"]), (&json!(file.len()), &json!(1)));
    alice.put("resume1", 2, &file[2048..4096]);
    alice.put("resume1", 3, &file[4096..]);
    let job = alice.commit("resume1");
    assert_eq!(alice.job(job)["data"]["status"], "SUCCESS");
    assert_eq!(sim.staged("/u/alice/local.bin").unwrap().md5().unwrap(), md5_hex(&file), "part 1 read from the file");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bodies_are_framed_bounded_and_continued() {
    let sim = Sim::start(Config { max_body: 64 * KIB, ..small() }).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let form = "path=/u/alice/chunked&size=10";
    let head = alice.head("POST", BASE, &[("Transfer-Encoding", "chunked".into())]);
    alice
        .stream
        .write_all(
            format!("{head}9\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n", &form[..9], form.len() - 9, &form[9..]).as_bytes(),
        )
        .unwrap();
    assert_eq!(alice.answer().unwrap().json()["data"]["path"], "/u/alice/chunked", "a chunked form");
    let id = alice.new_session("/u/alice/f", 4096);
    let head = alice.head(
        "PUT",
        &format!("{BASE}/{id}"),
        &[
            ("X-VaultAPI-FilePartNumber", "1".into()),
            ("Content-Length", "2048".into()),
            ("Expect", "100-continue".into()),
        ],
    );
    alice.stream.write_all(head.as_bytes()).unwrap();
    assert_eq!(alice.read_one().unwrap().status, 100, "100 Continue before the body is sent");
    alice.stream.write_all(&[4; 2048]).unwrap();
    assert_eq!(alice.answer().unwrap().json()["data"]["size"], 2048);
    let too_big = alice.put(&id, 2, &vec![0; 64 * 1024 + 1]);
    assert_eq!((too_big.status, too_big.header("connection")), (413, Some("close")));
    let refused = sim.requests().pop().unwrap();
    assert_eq!((refused.method.as_str(), refused.body_len, refused.body_complete), ("PUT", 0, false));
    let mut rest = Vec::new();
    assert_eq!(alice.stream.read_to_end(&mut rest).unwrap_or(0), 0, "then the connection closes");
    let mut chunked = Client::new(&sim, ALICE);
    let head = chunked.head("POST", BASE, &[("Transfer-Encoding", "chunked".into())]);
    let chunk = vec![b'a'; 40 * 1024];
    let mut out = head.into_bytes();
    for _ in 0..2 {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(b"\r\n");
    }
    chunked.stream.write_all(&out).unwrap();
    let too_big = chunked.answer().unwrap();
    assert_eq!((too_big.status, too_big.header("connection")), (413, Some("close")), "a chunked body past the cap");
    let mut broken = Client::new(&sim, ALICE);
    let head = broken.head("POST", BASE, &[("Transfer-Encoding", "chunked".into())]);
    broken.stream.write_all(format!("{head}3\r\nabcXX0\r\n\r\n").as_bytes()).unwrap();
    assert_eq!(broken.answer().unwrap().status, 400, "chunk data not followed by CRLF");
}

/// True when reading the socket shows the peer reset it.
fn was_reset(client: &mut Client) -> bool {
    let mut byte = [0u8; 1];
    matches!(client.stream.read(&mut byte), Err(e) if e.kind() == io::ErrorKind::ConnectionReset)
}

#[test]
fn reset_mid_body_cuts_a_put_with_rst_and_stores_nothing() {
    let upload = Upload::new("r", "alice", 0).declared_size(8 * KIB).fault_on(
        Endpoint::Put,
        When::Request(1),
        Action::ResetMidBody,
    );
    let sim = Sim::start(small().upload(upload)).unwrap();
    let part = pseudo_random_bytes(4 * KIB, 2);
    let mut first = Client::new(&sim, ALICE);
    let head = first.head(
        "PUT",
        &format!("{BASE}/r"),
        &[("X-VaultAPI-FilePartNumber", "1".into()), ("Content-Length", part.len().to_string())],
    );
    first.stream.write_all(head.as_bytes()).unwrap();
    first.stream.write_all(&part).unwrap();
    assert!(was_reset(&mut first), "the connection was reset, not closed");
    let cut = sim.requests().into_iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!((cut.body_len, cut.body_complete), (2048, false), "half the body was read");
    assert_eq!(cut.body_md5, md5_hex(&part[..2048]));
    assert!(sim.session("r").unwrap().parts.is_empty());
    let mut retry = Client::new(&sim, ALICE);
    assert_eq!(retry.put("r", 1, &part).json()["data"]["part_content_md5"], md5_hex(&part), "the retry is stored");
    let view = sim.session("r").unwrap();
    assert_eq!((view.put_order, view.max_puts_in_flight), (vec![1, 1], 1));
}

#[test]
fn echo_faults_answer_wrong_but_store_right() {
    let upload = Upload::new("e", "alice", 0)
        .declared_size(3 * KIB)
        .fault_on(Endpoint::Put, When::Request(1), Action::EchoMd5)
        .fault_on(Endpoint::Put, When::Request(2), Action::EchoSize);
    let sim = Sim::start(small().upload(upload)).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let (one, two) = (pseudo_random_bytes(KIB, 1), pseudo_random_bytes(KIB, 2));
    let echoed = alice.put("e", 1, &one).json();
    assert_eq!(echoed["data"]["size"], 1024);
    assert_ne!(echoed["data"]["part_content_md5"], md5_hex(&one));
    assert_eq!(echoed["data"]["part_content_md5"].as_str().unwrap().len(), 32);
    let echoed = alice.put("e", 2, &two).json();
    assert_eq!((&echoed["data"]["size"], &echoed["data"]["part_content_md5"]), (&json!(1025), &json!(md5_hex(&two))));
    let stored = sim.session("e").unwrap().parts;
    assert_eq!(
        stored.iter().map(|p| (p.size, p.md5.clone().unwrap())).collect::<Vec<_>>(),
        [(1024, md5_hex(&one)), (1024, md5_hex(&two))]
    );
    assert_eq!(
        alice.put("e", 3, &one).json()["data"]["part_content_md5"],
        md5_hex(&one),
        "the third is answered right"
    );
}

#[test]
fn job_faults_end_or_report_another_status() {
    let upload = Upload::new("j", "alice", 1)
        .fault_on(Endpoint::Commit, When::Request(1), Action::JobStatus("CANCELLED".into()))
        .fault_on(
            Endpoint::Job,
            When::Request(2),
            Action::Status { code: 503, body: "busy".into(), retry_after: Some(4) },
        );
    let sim = Sim::start(Config { job_poll_window: Duration::ZERO, ..small() }.upload(upload)).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let job = alice.commit("j");
    assert_eq!(alice.job(job)["data"]["status"], "CANCELLED");
    let busy = alice.get(&format!("/api/v25.3/services/jobs/{job}"));
    assert_eq!((busy.status, busy.body.as_slice(), busy.header("retry-after")), (503, &b"busy"[..], Some("4")));
    assert_eq!(sim.session("j").unwrap().state, SessionState::Open, "a cancelled job leaves the session open");
    let second = alice.commit("j");
    assert_eq!(alice.job(second)["data"]["status"], "SUCCESS", "the commit fault was for the first commit only");
}

#[test]
fn faults_on_new_sessions_creates_and_lists() {
    let config = small()
        .fault_on(
            Endpoint::Create,
            When::Request(1),
            Action::VaultError {
                status: "EXCEPTION".into(),
                kind: "UNEXPECTED_ERROR".into(),
                message: "Simulated.".into(),
            },
        )
        .fault_on(Endpoint::Sessions, When::Always, Action::Warning)
        .fault_on(
            Endpoint::Put,
            When::Request(1),
            Action::Status { code: 429, body: String::new(), retry_after: Some(3) },
        )
        .fault_on(Endpoint::Details, When::Always, Action::Close);
    let sim = Sim::start(config).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let failed = alice.create("path=/u/alice/f&size=2048").json();
    assert_eq!(
        failed,
        json!({"responseStatus": "EXCEPTION", "errors": [{"type": "UNEXPECTED_ERROR", "message": "Simulated."}]})
    );
    assert!(sim.sessions().is_empty(), "the faulted create made nothing");
    let ids: Vec<String> = (0..2).map(|i| alice.new_session(&format!("/u/alice/f{i}"), 2048)).collect();
    let list = alice.get(BASE).json();
    assert_eq!((&list["responseStatus"], list["data"].as_array().unwrap().len()), (&json!("WARNING"), 2));
    assert_eq!(list["warnings"][0]["type"], "SIMULATED_WARNING");
    for id in &ids {
        let limited = alice.put(id, 1, &[1; 1024]);
        assert_eq!((limited.status, limited.header("retry-after")), (429, Some("3")), "each new session's first PUT");
        assert_eq!(alice.put(id, 1, &[1; 1024]).json()["data"]["size"], 1024);
    }
    assert!(alice.send("GET", &format!("{BASE}/{}", ids[0]), &[], b"").is_err(), "details: closed without an answer");
    assert_eq!(sim.session(&ids[0]).unwrap().parts.len(), 1);
}

#[test]
fn existing_actions_work_on_every_endpoint() {
    let upload = Upload::new("x", "alice", 0)
        .declared_size(2 * KIB)
        .fault_on(Endpoint::Put, When::Request(1), Action::Hang)
        .fault_on(Endpoint::Put, When::Request(2), Action::Gzip)
        .fault_on(Endpoint::Commit, When::Request(1), Action::Delay(Duration::from_millis(300)))
        .fault_on(Endpoint::Details, When::Request(1), Action::Redirect("/elsewhere".into()))
        .fault_on(
            Endpoint::Abort,
            When::Always,
            Action::VaultError {
                status: "FAILURE".into(),
                kind: "OPERATION_IN_PROGRESS".into(),
                message: "Busy.".into(),
            },
        );
    let sim = Sim::start(small().upload(upload)).unwrap();
    let mut hung = Client::new(&sim, ALICE);
    hung.stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let headers = [("X-VaultAPI-FilePartNumber", "1".to_owned())];
    let error = hung.send("PUT", &format!("{BASE}/x"), &headers, &[1; 1024]).err().expect("no answer");
    assert!(matches!(error.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut), "{error}");
    let mut alice = Client::new(&sim, ALICE);
    let gzipped = alice.put("x", 1, &[1; 1024]);
    assert_eq!(gzipped.header("content-encoding"), Some("gzip"));
    let mut text = String::new();
    flate2::read::GzDecoder::new(gzipped.body.as_slice()).read_to_string(&mut text).unwrap();
    let echo: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(echo["data"]["part_content_md5"], md5_hex(&[1; 1024]));
    let view = sim.session("x").unwrap();
    assert_eq!(view.put_order, [1, 1]);
    assert_eq!(view.max_puts_in_flight, 1, "a hung PUT is not in flight once the server gives up on it");
    assert_eq!(view.parts.len(), 1, "the hung PUT stored nothing");
    let redirected = alice.get(&format!("{BASE}/x"));
    assert_eq!((redirected.status, redirected.header("location")), (302, Some("/elsewhere")));
    alice.put("x", 2, &[2; 1024]);
    let started = Instant::now();
    let job = alice.commit("x");
    assert!(started.elapsed() >= Duration::from_millis(300), "the commit was delayed");
    assert_eq!(alice.job(job)["data"]["status"], "SUCCESS");
    let abort = alice.send("DELETE", &format!("{BASE}/x"), &[], b"").unwrap().json();
    assert_eq!(abort, failure("OPERATION_IN_PROGRESS", "Busy."));
}

/// Polls `check` until it holds (at most 10 s).
fn eventually(what: &str, check: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < until, "never: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn two_puts_in_flight_at_once_are_seen() {
    let sim = Sim::start(small()).unwrap();
    let mut alice = Client::new(&sim, ALICE);
    let id = alice.new_session("/u/alice/f", 4 * KIB);
    let part = pseudo_random_bytes(2 * KIB, 5);
    let head = alice.head(
        "PUT",
        &format!("{BASE}/{id}"),
        &[("X-VaultAPI-FilePartNumber", "1".into()), ("Content-Length", part.len().to_string())],
    );
    alice.stream.write_all(head.as_bytes()).unwrap();
    alice.stream.write_all(&part[..100]).unwrap();
    eventually("the first PUT's head is in", || sim.session(&id).unwrap().put_order == [1]);
    let mut second = Client::new(&sim, ALICE);
    assert_eq!(second.put(&id, 1, &part).json()["data"]["size"], 2048);
    alice.stream.write_all(&part[100..]).unwrap();
    assert_eq!(alice.answer().unwrap().json()["data"]["part_content_md5"], md5_hex(&part));
    assert_eq!(sim.session(&id).unwrap().max_puts_in_flight, 2);
}

#[test]
fn dotted_session_ids_on_request() {
    let sim = Sim::start(Config { session_ids: SessionIds::Dotted, ..users() }).unwrap();
    let id = Client::new(&sim, ALICE).new_session("/u/alice/f", 10);
    assert_eq!(id.split('.').count(), 3, "{id}");
    assert_eq!(sim.sessions()[0].id, id);
}
