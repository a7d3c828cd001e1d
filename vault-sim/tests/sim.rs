//! vault-sim over the wire: what it counts (TCP connections, full and resumed TLS handshakes)
//! and what it answers, seen by hand-written clients that control every connection.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;
use vault_sim::tls::TestCa;
use vault_sim::{Action, Config, Sim, Upload, When};

const TOKEN: &str = "tok-alice";

fn config(upload: Upload) -> Config {
    Config::default().user(TOKEN, "alice", false).upload(upload)
}

fn parts_path(id: &str, query: &str) -> String {
    format!("/api/v25.3/services/file_staging/upload/{id}/parts{query}")
}

/// Sends one keep-alive GET and reads the whole answer: (status, body).
fn get(stream: &mut (impl Read + Write), target: &str) -> (u16, String) {
    let head = format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {TOKEN}\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(len) = response.parse(&buf).unwrap() {
            let content_length = response.headers.iter().find(|h| h.name.eq_ignore_ascii_case("content-length"));
            let want: usize = std::str::from_utf8(content_length.unwrap().value).unwrap().parse().unwrap();
            if buf.len() >= len + want {
                return (response.code.unwrap(), String::from_utf8(buf[len..len + want].to_vec()).unwrap());
            }
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the server closed before a whole answer: {:?}", String::from_utf8_lossy(&buf));
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn connect(sim: &Sim) -> TcpStream {
    let tcp = TcpStream::connect(sim.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    tcp
}

#[test]
fn connections_are_counted_exactly() {
    let sim = Sim::start(config(Upload::new("c", "alice", 3))).unwrap();
    assert_eq!(sim.connections(), 0);
    let mut first = connect(&sim);
    for _ in 0..3 {
        assert_eq!(get(&mut first, &parts_path("c", "")).0, 200);
    }
    assert_eq!(sim.connections(), 1, "three requests on one kept-alive connection");
    let _silent = connect(&sim);
    let mut third = connect(&sim);
    assert_eq!(get(&mut third, &parts_path("c", "")).0, 200);
    assert_eq!(sim.connections(), 3, "a connection that sent nothing counts too");
    let carriers: Vec<u64> = sim.requests().iter().map(|r| r.connection).collect();
    assert_eq!(carriers, [1, 1, 1, 3]);
    assert_eq!(sim.tls_handshakes(), (0, 0), "plain HTTP has no handshakes");
}

#[test]
fn many_clients_connecting_at_once_are_all_served_and_counted() {
    let sim = Arc::new(Sim::start(config(Upload::new("m", "alice", 1))).unwrap());
    let threads: Vec<_> = (0..200)
        .map(|_| {
            let sim = sim.clone();
            std::thread::spawn(move || get(&mut connect(&sim), &parts_path("m", "")).0)
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    assert_eq!(sim.connections(), 200);
    assert_eq!(sim.requests().len(), 200);
}

/// A rustls client trusting `ca`; TLS 1.2 only when `tls12` (else TLS 1.3 is negotiated).
fn client_config(ca: &TestCa, tls12: bool) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().to_vec().into()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] =
        if tls12 { &[&rustls::version::TLS12] } else { &[&rustls::version::TLS13] };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// One TLS connection from `client`, one request on it, then the connection is dropped.
fn tls_get(sim: &Sim, client: &Arc<rustls::ClientConfig>) -> u16 {
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(client.clone(), name).unwrap();
    let mut stream = rustls::StreamOwned::new(conn, connect(sim));
    get(&mut stream, &parts_path("t", "")).0
}

fn resumption(tls12: bool) {
    let ca = TestCa::new("sim test CA");
    let sim =
        Sim::start(Config { tls: Some(ca.identity(&["127.0.0.1"])), ..config(Upload::new("t", "alice", 2)) }).unwrap();
    let client = client_config(&ca, tls12);
    assert_eq!(tls_get(&sim, &client), 200);
    assert_eq!(sim.tls_handshakes(), (1, 0));
    for resumed in 1..=3 {
        assert_eq!(tls_get(&sim, &client), 200);
        assert_eq!(sim.tls_handshakes(), (1, resumed), "each later connection of the same client resumes");
    }
    assert_eq!(tls_get(&sim, &client_config(&ca, tls12)), 200);
    assert_eq!(sim.tls_handshakes(), (2, 3), "a client with no session does a full handshake");
    assert_eq!(sim.connections(), 5);
}

#[test]
fn tls13_sessions_resume() {
    resumption(false);
}

#[test]
fn tls12_sessions_resume() {
    resumption(true);
}

#[test]
fn a_handshake_that_never_completes_does_not_count_or_hold_the_server() {
    let ca = TestCa::new("sim test CA");
    let mut sim =
        Sim::start(Config { tls: Some(ca.identity(&["127.0.0.1"])), ..config(Upload::new("t", "alice", 2)) }).unwrap();
    let mut silent = connect(&sim);
    silent.write_all(b"\x16\x03\x01").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!((sim.connections(), sim.tls_handshakes()), (1, (0, 0)));
    sim.stop();
    let mut rest = Vec::new();
    assert_eq!(silent.read_to_end(&mut rest).unwrap(), 0, "the stopped server closed the connection");
}

#[test]
fn cursors_are_percent_decoded_and_errors_are_json() {
    let message = "Quote \" backslash \\ newline \n control \u{1} tab \t";
    let upload = Upload::new("e", "alice", 5).fault(
        When::Request(3),
        Action::VaultError { status: "FAILURE".into(), kind: "OPERATION_NOT_ALLOWED".into(), message: message.into() },
    );
    let sim = Sim::start(config(upload)).unwrap();
    let mut stream = connect(&sim);
    let (_, first) = get(&mut stream, &parts_path("e", "?limit=2"));
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let next = first["responseDetails"]["next_page"].as_str().unwrap();
    let query = next.split_once('?').unwrap().1;
    assert!(query.contains("%2B") && query.contains("%2F%3D"), "the cursor is sent escaped: {query}");
    let (_, second) = get(&mut stream, &parts_path("e", &format!("?{query}")));
    let second: serde_json::Value = serde_json::from_str(&second).unwrap();
    assert_eq!(second["data"][0]["part_number"], 3, "the escaped cursor decodes to the third part");
    let (status, error) = get(&mut stream, &parts_path("e", ""));
    assert_eq!(status, 200);
    let error: serde_json::Value = serde_json::from_str(&error).unwrap();
    assert_eq!(
        error,
        serde_json::json!({"responseStatus": "FAILURE", "errors": [{"type": "OPERATION_NOT_ALLOWED", "message": message}]})
    );
}

#[test]
fn pages_keep_vaults_field_order() {
    let sim = Sim::start(config(Upload::new("o", "alice", 2))).unwrap();
    let (_, body) = get(&mut connect(&sim), &parts_path("o", "?limit=1"));
    let prefix = format!(
        r#"{{"responseStatus":"SUCCESS","responseDetails":{{"next_page":"http://127.0.0.1{}"#,
        parts_path("o", "?cursor=")
    );
    assert!(body.starts_with(&prefix), "{body}");
    let md5 = vault_sim::md5_for("o", 1);
    assert!(
        body.ends_with(&format!(r#""data":[{{"size":5242880,"part_number":1,"part_content_md5":"{md5}"}}]}}"#)),
        "{body}"
    );
}

#[test]
fn a_next_page_fault_that_is_not_json_is_reported() {
    let sim =
        Sim::start(config(Upload::new("n", "alice", 2).fault(When::Always, Action::NextPage("/x".into())))).unwrap();
    let (status, body) = get(&mut connect(&sim), &parts_path("n", ""));
    assert_eq!(status, 500);
    assert!(body.starts_with("vault-sim: NextPage fault is not JSON"), "{body}");
}

#[test]
fn slow_body_sends_half_pauses_then_the_rest_and_keeps_the_connection() {
    let pause = Duration::from_millis(400);
    let sim =
        Sim::start(config(Upload::new("s", "alice", 3).fault(When::Request(1), Action::SlowBody(pause)))).unwrap();
    let mut stream = connect(&sim);
    let started = std::time::Instant::now();
    stream
        .write_all(format!("GET {} HTTP/1.1\r\nAuthorization: {TOKEN}\r\n\r\n", parts_path("s", "")).as_bytes())
        .unwrap();
    let mut first = [0u8; 65536];
    let n = stream.read(&mut first).unwrap();
    let first = String::from_utf8_lossy(&first[..n]);
    assert!(first.starts_with("HTTP/1.1 200 OK\r\n") && first.contains(r#""responseStatus":"SUCCESS""#), "{first}");
    assert!(!first.ends_with("]}"), "the first write stops in the middle of the body: {first}");
    let mut rest = Vec::new();
    let mut chunk = [0u8; 65536];
    while !rest.ends_with(b"]}") {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0);
        rest.extend_from_slice(&chunk[..n]);
    }
    assert!(started.elapsed() >= pause, "the rest came after the pause");
    let body = format!("{first}{}", String::from_utf8_lossy(&rest));
    let json: serde_json::Value = serde_json::from_str(body.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!(json["data"].as_array().unwrap().len(), 3);
    assert_eq!(get(&mut stream, &parts_path("s", "")).0, 200, "the connection is still usable");
    assert_eq!(sim.connections(), 1);
}

#[test]
fn after_waits_then_does_the_other_action() {
    let pause = Duration::from_millis(300);
    let redirect = Action::Redirect("/elsewhere".into());
    let sim = Sim::start(config(
        Upload::new("a", "alice", 1).fault(When::FirstN(2), Action::After(pause, Box::new(redirect))),
    ))
    .unwrap();
    let mut stream = connect(&sim);
    let started = std::time::Instant::now();
    assert_eq!(get(&mut stream, &parts_path("a", "")).0, 302);
    assert_eq!(get(&mut stream, &parts_path("a", "")).0, 302);
    assert!(started.elapsed() >= pause * 2);
    assert_eq!(get(&mut stream, &parts_path("a", "")).0, 200);
}
