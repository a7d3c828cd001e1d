//! Proxies from the environment: HTTPS goes through an HTTP CONNECT proxy, which sees only the
//! target and ciphertext, never the session ID; plain http (loopback only) never uses a proxy.

mod harness;

use harness::{list_args, program, run, Mode};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use vault_sim::tls::TestCa;
use vault_sim::{Config, Sim, Upload};

const SID: &str = "SID-proxy-4f1c0b9e77";

/// A minimal CONNECT proxy that records each CONNECT target and every byte it relays upstream.
struct Proxy {
    port: u16,
    connects: Arc<Mutex<Vec<String>>>,
    upstream_bytes: Arc<Mutex<Vec<u8>>>,
}

impl Proxy {
    fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connects = Arc::new(Mutex::new(Vec::new()));
        let upstream_bytes = Arc::new(Mutex::new(Vec::new()));
        let (c, u) = (connects.clone(), upstream_bytes.clone());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (c, u) = (c.clone(), u.clone());
                thread::spawn(move || tunnel(client, c, u));
            }
        });
        Proxy { port, connects, upstream_bytes }
    }
}

fn tunnel(mut client: TcpStream, connects: Arc<Mutex<Vec<String>>>, upstream_bytes: Arc<Mutex<Vec<u8>>>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if client.read(&mut byte).unwrap_or(0) == 0 {
            return;
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    upstream_bytes.lock().unwrap().extend_from_slice(head.as_bytes());
    let first = head.lines().next().unwrap_or("").to_owned();
    connects.lock().unwrap().push(first.clone());
    let Some(target) = first.strip_prefix("CONNECT ").and_then(|r| r.split(' ').next()) else {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
        return;
    };
    let Ok(server) = TcpStream::connect(target) else { return };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
    let down = thread::spawn(move || {
        let _ = std::io::copy(&mut s2, &mut c2);
        let _ = c2.shutdown(Shutdown::Write);
    });
    let (mut client, mut server) = (client, server);
    let mut buf = [0u8; 16384];
    while let Ok(n) = client.read(&mut buf) {
        if n == 0 || server.write_all(&buf[..n]).is_err() {
            break;
        }
        upstream_bytes.lock().unwrap().extend_from_slice(&buf[..n]);
    }
    let _ = server.shutdown(Shutdown::Write);
    let _ = down.join();
}

#[test]
fn https_goes_through_a_connect_proxy_without_exposing_the_session_id() {
    let ca = TestCa::new("proxy test CA");
    let ca_file = std::env::temp_dir().join(format!("vault_parts_proxy_ca_{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let mut config = Config::default().user(SID, "alice", false).upload(Upload::new("px", "alice", 5));
    config.tls = Some(ca.identity(&["127.0.0.1"]));
    let sim = Sim::start(config).unwrap();
    let proxy = Proxy::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let args = list_args(&sim, SID, "px", &["limit=2", &format!("ca_file={}", ca_file.display())]);
    let r = run(Mode::Native, &program("tests-c/list.c"), &args, &[("HTTPS_PROXY", &proxy_url)]);
    std::fs::remove_file(&ca_file).unwrap();
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.field("result"), "DONE", "{}", r.stdout);
    assert_eq!(r.parts().lines().count(), 5);
    assert_eq!(sim.requests().len(), 3);
    let connects = proxy.connects.lock().unwrap().clone();
    assert!(!connects.is_empty(), "the proxy was not used");
    assert!(connects.iter().all(|c| c.starts_with(&format!("CONNECT {} ", sim.addr()))), "{connects:?}");
    let relayed = proxy.upstream_bytes.lock().unwrap().clone();
    assert!(!relayed.windows(SID.len()).any(|w| w == SID.as_bytes()), "the proxy saw the session ID in clear");
}

#[test]
fn plain_http_to_loopback_never_uses_a_proxy() {
    let sim = Sim::start(Config::default().user(SID, "alice", false).upload(Upload::new("pl", "alice", 3))).unwrap();
    let proxy = Proxy::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let args = list_args(&sim, SID, "pl", &[]);
    for var in ["HTTP_PROXY", "ALL_PROXY", "http_proxy", "HTTPS_PROXY"] {
        let r = run(Mode::Native, &program("tests-c/list.c"), &args, &[(var, &proxy_url)]);
        assert_eq!(r.field("result"), "DONE", "{var}: {}", r.stdout);
    }
    assert!(proxy.connects.lock().unwrap().is_empty(), "{:?}", proxy.connects.lock().unwrap());
    assert!(proxy.upstream_bytes.lock().unwrap().is_empty());
    assert_eq!(sim.requests().len(), 4);
}

/// A SOCKS proxy in the environment is refused, never bypassed: the listing fails with
/// E_NETWORK saying so, before any connection (neither the proxy's listener nor Vault sees
/// one), for every SOCKS scheme ureq reads; NO_PROXY still exempts a host.
#[test]
fn a_socks_proxy_is_refused_never_bypassed() {
    let ca = TestCa::new("socks test CA");
    let ca_file = std::env::temp_dir().join(format!("vault_parts_socks_ca_{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let mut config = Config::default().user(SID, "alice", false).upload(Upload::new("sx", "alice", 3));
    config.tls = Some(ca.identity(&["127.0.0.1"]));
    let sim = Sim::start(config).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let ca_opt = format!("ca_file={}", ca_file.display());
    let args = list_args(&sim, SID, "sx", &["attempts=3", &ca_opt]);
    for scheme in ["socks4", "socks4a", "socks5", "socks5h"] {
        for var in ["ALL_PROXY", "HTTPS_PROXY", "https_proxy"] {
            let proxy = format!("{scheme}://user:pw-secret@127.0.0.1:{port}");
            let r = run(Mode::Native, &program("tests-c/list.c"), &args, &[(var, &proxy)]);
            let what = format!("{var}={scheme}://...: {}{}", r.stdout, r.stderr);
            assert_eq!(r.field("result"), "E_NETWORK", "{what}");
            assert!(r.field("errmsg").contains("SOCKS is not supported"), "{what}");
            assert!(r.field("stats").contains(" retries 0 "), "three attempts allowed, none retried: {what}");
            assert!(!r.stdout.contains("pw-secret") && !r.stderr.contains("pw-secret"), "{what}");
        }
    }
    assert_eq!(sim.requests().len(), 0, "a request went around the proxy");
    assert!(listener.accept().is_err(), "nothing dials the SOCKS proxy either");
    let exempt = run(
        Mode::Native,
        &program("tests-c/list.c"),
        &args,
        &[("ALL_PROXY", &format!("socks5://127.0.0.1:{port}")), ("NO_PROXY", "127.0.0.1")],
    );
    std::fs::remove_file(&ca_file).unwrap();
    assert_eq!(exempt.field("result"), "DONE", "NO_PROXY exempts the host: {}", exempt.stdout);
    assert_eq!(sim.requests().len(), 1);
}

/// A TLS vault-sim with one upload `id` of `parts` parts, and a file holding its CA.
fn tls_sim(id: &str, parts: u32) -> (Sim, std::path::PathBuf) {
    let ca = TestCa::new("proxy test CA");
    let ca_file = std::env::temp_dir().join(format!("vault_parts_proxy_{id}_ca_{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let mut config = Config::default().user(SID, "alice", false).upload(Upload::new(id, "alice", parts));
    config.tls = Some(ca.identity(&["127.0.0.1"]));
    (Sim::start(config).unwrap(), ca_file)
}

/// A proxy variable that applies but holds no usable URL fails the listing with E_NETWORK,
/// naming the variable, before any connection: neither Vault nor the host in the value sees
/// one (ureq would skip the value and go direct). Its userinfo appears nowhere; plain http
/// and NO_PROXY hosts are not affected.
#[test]
fn an_unusable_proxy_variable_fails_before_any_connection() {
    let (sim, ca_file) = tls_sim("ux", 3);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let ca_opt = format!("ca_file={}", ca_file.display());
    let args = list_args(&sim, SID, "ux", &["attempts=3", "log=1", &ca_opt]);
    let cases = [
        (
            format!("http://corp-user:pw%zz-secret@127.0.0.1:{port}"),
            "its user:password part is not valid percent-encoding: write a literal % as %25",
        ),
        (
            format!("http://corp-user:pw%FF-secret@127.0.0.1:{port}"),
            "its user:password part is not valid percent-encoding: write a literal % as %25",
        ),
        (format!("ftp://corp-user:pw-secret@127.0.0.1:{port}"), "its scheme is not http://, https:// or a SOCKS one"),
        ("http://corp-user:pw-secret@".to_owned(), "it is not a proxy URL like http://host:port"),
    ];
    for (value, why) in &cases {
        for var in ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "HTTP_PROXY"] {
            let r = run(Mode::Native, &program("tests-c/list.c"), &args, &[(var, value)]);
            let what = format!("{var}: {}{}", r.stdout, r.stderr);
            assert_eq!(r.field("result"), "E_NETWORK", "{what}");
            assert_eq!(
                r.field("errmsg"),
                format!(
                    "page 1 (GET {}/api/v25.3/services/file_staging/upload/ux/parts): connection failed: \
                     {var} is set but names no usable proxy ({why}); nothing was sent: \
                     fix it (http://[user:password@]host:port), unset it or list the host in NO_PROXY",
                    sim.url()
                ),
                "{what}"
            );
            assert!(!r.stdout.contains("secret") && !r.stderr.contains("secret"), "{what}");
            assert!(!r.stdout.contains("corp-user") && !r.stderr.contains("corp-user"), "{what}");
        }
    }
    // A later variable never stands in for the unusable one.
    let shadowed = run(
        Mode::Native,
        &program("tests-c/list.c"),
        &args,
        &[("HTTPS_PROXY", &cases[0].0), ("HTTP_PROXY", &format!("http://127.0.0.1:{port}"))],
    );
    assert_eq!(shadowed.field("result"), "E_NETWORK", "{}", shadowed.stdout);
    assert_eq!(sim.requests().len(), 0, "a request went around the proxy");
    assert_eq!(sim.connections(), 0, "a connection went around the proxy");
    assert!(listener.accept().is_err(), "nothing dials the host in the value either");
    let exempt = run(
        Mode::Native,
        &program("tests-c/list.c"),
        &args,
        &[("HTTPS_PROXY", &cases[0].0), ("NO_PROXY", "127.0.0.1")],
    );
    assert_eq!(exempt.field("result"), "DONE", "NO_PROXY exempts the host: {}", exempt.stdout);
    assert_eq!(sim.requests().len(), 1);
    std::fs::remove_file(&ca_file).unwrap();
    let plain = Sim::start(Config::default().user(SID, "alice", false).upload(Upload::new("up", "alice", 2))).unwrap();
    let r = run(
        Mode::Native,
        &program("tests-c/list.c"),
        &list_args(&plain, SID, "up", &[]),
        &[("HTTPS_PROXY", &cases[0].0)],
    );
    assert_eq!(r.field("result"), "DONE", "plain http never uses a proxy: {}", r.stdout);
}

/// For an https URL the variables are read in curl's order: https_proxy, HTTPS_PROXY,
/// all_proxy, ALL_PROXY, then http_proxy, HTTP_PROXY as a last fallback; the first one set
/// decides. A SOCKS value (refused) shadowed by a CONNECT proxy is never read.
#[test]
fn https_proxy_outranks_all_proxy_which_outranks_http_proxy() {
    let (sim, ca_file) = tls_sim("pr", 2);
    let proxy = Proxy::start();
    let good = format!("http://127.0.0.1:{}", proxy.port);
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    dead.set_nonblocking(true).unwrap();
    let socks = format!("socks5://127.0.0.1:{}", dead.local_addr().unwrap().port());
    let ca_opt = format!("ca_file={}", ca_file.display());
    let args = list_args(&sim, SID, "pr", &["attempts=1", &ca_opt]);
    let through_proxy: [&[(&str, &str)]; 6] = [
        &[("ALL_PROXY", &socks), ("HTTPS_PROXY", &good)],
        &[("all_proxy", &socks), ("https_proxy", &good), ("HTTP_PROXY", &socks)],
        &[("HTTPS_PROXY", &socks), ("https_proxy", &good)],
        &[("ALL_PROXY", &socks), ("all_proxy", &good), ("http_proxy", &socks)],
        &[("ALL_PROXY", &good), ("HTTP_PROXY", &socks), ("http_proxy", &socks)],
        &[("HTTP_PROXY", &socks), ("http_proxy", &good), ("HTTPS_PROXY", "")],
    ];
    for (i, env) in through_proxy.iter().enumerate() {
        let r = run(Mode::Native, &program("tests-c/list.c"), &args, env);
        assert_eq!(r.field("result"), "DONE", "{env:?}: {}{}", r.stdout, r.stderr);
        assert_eq!(proxy.connects.lock().unwrap().len(), i + 1, "{env:?} did not use the CONNECT proxy");
        assert_eq!(sim.requests().len(), i + 1);
    }
    let only_http_proxy = run(Mode::Native, &program("tests-c/list.c"), &args, &[("HTTP_PROXY", &good)]);
    assert_eq!(only_http_proxy.field("result"), "DONE", "{}", only_http_proxy.stdout);
    assert_eq!(proxy.connects.lock().unwrap().len(), 7, "HTTP_PROXY is the last fallback");
    let (socks, good) = (socks.as_str(), good.as_str());
    let shadowing: [&[(&str, &str)]; 2] =
        [&[("ALL_PROXY", socks), ("HTTP_PROXY", good)], &[("https_proxy", socks), ("ALL_PROXY", good)]];
    for env in shadowing {
        let r = run(Mode::Native, &program("tests-c/list.c"), &args, env);
        assert_eq!(r.field("result"), "E_NETWORK", "{env:?}: {}", r.stdout);
        let var = env[0].0;
        assert!(
            r.field("errmsg").contains(&format!("{var} names a SOCKS5 proxy and SOCKS is not supported")),
            "{}",
            r.stdout
        );
    }
    let connects = proxy.connects.lock().unwrap().clone();
    assert_eq!(connects.len(), 7);
    assert!(connects.iter().all(|c| c == &format!("CONNECT {} HTTP/1.1", sim.addr())), "{connects:?}");
    assert_eq!(sim.requests().len(), 7);
    assert!(dead.accept().is_err(), "nothing dials the SOCKS proxy");
    std::fs::remove_file(&ca_file).unwrap();
}

/// A SOCKS4 or SOCKS5 proxy (which would have the target resolved locally) is refused before
/// the Vault host is looked up: a host that no resolver knows still gets the SOCKS refusal,
/// never "host not found".
#[test]
fn a_socks_proxy_is_refused_before_the_vault_host_is_looked_up() {
    let args: Vec<String> =
        ["https://vault-parts-no-such-host.invalid", SID, "sx", "attempts=3"].iter().map(|s| s.to_string()).collect();
    for scheme in ["socks4", "socks5", "socks4a", "socks5h", "socks"] {
        let r = run(
            Mode::Native,
            &program("tests-c/list.c"),
            &args,
            &[("HTTPS_PROXY", &format!("{scheme}://127.0.0.1:9"))],
        );
        assert_eq!(r.field("result"), "E_NETWORK", "{scheme}: {}", r.stdout);
        assert!(r.field("errmsg").contains("HTTPS_PROXY names a SOCKS"), "{scheme}: {}", r.stdout);
        assert!(r.field("errmsg").contains("SOCKS is not supported"), "{scheme}: {}", r.stdout);
        assert!(r.field("stats").contains(" retries 0 "), "{scheme}: not retried: {}", r.stdout);
    }
}

/// tinyproxy, killed when dropped.
struct Tinyproxy {
    child: std::process::Child,
    port: u16,
    log: std::path::PathBuf,
}

impl Drop for Tinyproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Debian's tinyproxy on loopback with BasicAuth `user`/`password`, tunnelling only to
/// `connect_port`. Fails (never skips) when tinyproxy is missing: .ci/run installs it.
fn tinyproxy(user: &str, password: &str, connect_port: u16) -> Tinyproxy {
    let dir = std::env::temp_dir().join(format!("vault_parts_tinyproxy_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = dir.join("tinyproxy.log");
    let conf = dir.join("tinyproxy.conf");
    std::fs::write(
        &conf,
        format!(
            "Port {port}\nListen 127.0.0.1\nTimeout 30\nMaxClients 16\nBasicAuth {user} {password}\n\
             ConnectPort {connect_port}\nAllow 127.0.0.1\nLogLevel Connect\nLogFile \"{}\"\nPidFile \"{}\"\n",
            log.display(),
            dir.join("tinyproxy.pid").display()
        ),
    )
    .unwrap();
    let child = std::process::Command::new("tinyproxy")
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start tinyproxy ({e}): .ci/run installs it (apt-get install tinyproxy)"));
    let proxy = Tinyproxy { child, port, log };
    let started = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "tinyproxy did not listen on {port}");
        thread::sleep(std::time::Duration::from_millis(20));
    }
    proxy
}

/// Corporate proxies want credentials: `HTTPS_PROXY=http://user:password@host:port` reaches a
/// real proxy users run (tinyproxy with BasicAuth), and the userinfo is a secret: it appears
/// in no errmsg, log line or output, whether the proxy accepts it or refuses it.
#[test]
fn proxy_credentials_reach_tinyproxy_and_stay_secret() {
    let ca = TestCa::new("tinyproxy test CA");
    let ca_file = std::env::temp_dir().join(format!("vault_parts_tinyproxy_ca_{}.pem", std::process::id()));
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let mut config = Config::default().user(SID, "alice", false).upload(Upload::new("tp", "alice", 5));
    config.tls = Some(ca.identity(&["127.0.0.1"]));
    let sim = Sim::start(config).unwrap();
    let sim_port = sim.addr().port();
    let password = "Pr0xy-pw-7c1e";
    let proxy = tinyproxy("corp-user", password, sim_port);
    let ca_opt = format!("ca_file={}", ca_file.display());
    let list = |userinfo: &str, attempts: &str| {
        let args = list_args(&sim, SID, "tp", &["limit=2", attempts, "log=1", &ca_opt]);
        let url = format!("http://{userinfo}@127.0.0.1:{}", proxy.port);
        run(Mode::Native, &program("tests-c/list.c"), &args, &[("HTTPS_PROXY", &url)])
    };
    let connects = || {
        let log = std::fs::read_to_string(&proxy.log).unwrap_or_default();
        log.matches(&format!("CONNECT 127.0.0.1:{sim_port}")).count()
    };
    let ok = list(&format!("corp-user:{password}"), "attempts=1");
    assert_eq!(ok.field("result"), "DONE", "{}{}", ok.stdout, ok.stderr);
    assert_eq!(ok.parts().lines().count(), 5);
    assert_eq!(sim.requests().len(), 3, "three pages, through the proxy");
    let log = std::fs::read_to_string(&proxy.log).unwrap_or_default();
    assert!(log.contains(&format!("CONNECT 127.0.0.1:{sim_port}")), "tinyproxy tunnelled nothing: {log}");
    let before = connects();
    // Three attempts allowed, one made: the same credentials would be refused again.
    let refused = list("corp-user:wrong-pw-93ab", "attempts=3");
    assert_eq!(connects(), before + 1, "a refused password is not retried");
    assert_eq!(refused.field("result"), "E_NETWORK", "{}{}", refused.stdout, refused.stderr);
    // tinyproxy answers a refused BasicAuth with 401; the message says so plainly.
    assert!(
        refused.field("errmsg").contains(
            "the proxy (HTTPS_PROXY) refused the credentials in its URL (it answered HTTP 401): \
             check the user name and password there"
        ),
        "{}",
        refused.stdout
    );
    assert!(!refused.stdout.contains("401/401"), "{}", refused.stdout);
    assert_eq!(sim.requests().len(), 3, "a refused proxy reaches nothing");
    std::fs::remove_file(&ca_file).unwrap();
    for (r, secret) in [(&ok, password), (&refused, "wrong-pw-93ab")] {
        for text in [&r.stdout, &r.stderr] {
            assert!(!text.contains(secret) && !text.contains("corp-user:"), "the proxy's userinfo leaked: {text}");
        }
    }
}
