//! One client shared by many listings: a connection pool, the name cache and the TLS
//! session cache, used from any number of threads at once (the locking is ureq's pool lock
//! and the resolver's cache lock, held only to take or return an entry).
//!
//! Nothing of a listing lives in the client: its session ID goes into each request's
//! headers, and the interrupt, deadlines and statistics of a request come from the
//! `net::RequestContext` it runs under. A connection taken from the pool therefore carries
//! nothing from the listing that used it before.
//!
//! TLS resumption: the HTTPS agent builds its rustls configuration once, on its first
//! agent-level request, and every later connection resumes through that configuration's
//! session cache. A request-level TLS configuration would bypass that cache (ureq does not
//! store request-level configurations), so requests must not override the TLS settings; the
//! attempt's time limit comes from the request context, so no request needs to override
//! anything.

use crate::error::Error;
use crate::net::ProxyGate;
use crate::resolve::CachingResolver;
use crate::settings::{Settings, TrustRoots, DEFAULT_CLIENT_ID};
use std::sync::Arc;
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::{Agent, Proxy};

/// Idle connections kept when the caller sets no number.
pub(crate) const DEFAULT_MAX_IDLE_CONNECTIONS: usize = 8;

/// Which proxy HTTPS requests go through. Plain-http (loopback only) never uses one: a proxy
/// would be another host receiving the session ID in clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyRule {
    /// The first of [`HTTPS_PROXY_VARIABLES`] set non-empty, honouring NO_PROXY; read once,
    /// when the client is built. A variable that applies but holds no usable URL (or a SOCKS
    /// one) fails every HTTPS request to a host NO_PROXY does not list, before any
    /// connection or name lookup: traffic never goes around a proxy the environment names.
    FromEnvironment,
    Never,
    /// An HTTP CONNECT proxy, as "http://host:port" (user:password@ allowed).
    Url(String),
}

/// The proxy variables an https URL reads, first set (non-empty) first: curl's order for an
/// https URL (https_proxy, then all_proxy), then http_proxy as a last fallback; lower case
/// before upper case. The first one set decides: a later one never stands in for it.
pub const HTTPS_PROXY_VARIABLES: [&str; 6] =
    ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "http_proxy", "HTTP_PROXY"];

/// The NO_PROXY variables, in the order ureq reads them (the first one set is used).
const NO_PROXY_VARIABLES: [&str; 2] = ["NO_PROXY", "no_proxy"];

/// What the environment says about the proxy of HTTPS requests.
#[derive(Debug)]
enum EnvProxy {
    /// No proxy variable is set (or all are empty).
    Unset,
    /// `variable` names this proxy.
    Use { proxy: Proxy, variable: &'static str },
    /// `variable` is set but names no proxy this library can use; `why` quotes nothing of
    /// its value (it may hold a password).
    Unusable { variable: &'static str, why: &'static str },
}

/// Reads the proxy of HTTPS requests through `get` (the environment, or a test's table).
fn env_proxy(get: impl Fn(&str) -> Option<std::ffi::OsString>) -> EnvProxy {
    let Some((variable, value)) =
        HTTPS_PROXY_VARIABLES.iter().find_map(|&v| get(v).filter(|value| !value.is_empty()).map(|value| (v, value)))
    else {
        return EnvProxy::Unset;
    };
    let unusable = |why| EnvProxy::Unusable { variable, why };
    let Some(value) = value.to_str() else { return unusable("its value is not UTF-8") };
    if userinfo(value).is_some_and(|u| !well_percent_encoded(u)) {
        // ureq would send a stray % as it stands; RFC 3986 allows it only before two hex digits.
        return unusable(USERINFO_NOT_ENCODED);
    }
    match Proxy::new(value) {
        Ok(proxy) => EnvProxy::Use { proxy, variable },
        Err(_) => unusable(why_unusable(value)),
    }
}

const USERINFO_NOT_ENCODED: &str = "its user:password part is not valid percent-encoding: write a literal % as %25";

/// The scheme of a proxy URL (http when it has none) and the rest.
fn split_scheme(value: &str) -> (&str, &str) {
    value.split_once("://").unwrap_or(("http", value))
}

/// The user:password part of a proxy URL, if it has one.
fn userinfo(value: &str) -> Option<&str> {
    let rest = split_scheme(value).1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    authority.rfind('@').map(|at| &authority[..at])
}

/// Every % is followed by two hex digits.
fn well_percent_encoded(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%' || (i + 2 < bytes.len() && bytes[i + 1].is_ascii_hexdigit() && bytes[i + 2].is_ascii_hexdigit())
    })
}

/// Why ureq refused a proxy URL, worded without any of it.
fn why_unusable(value: &str) -> &'static str {
    let (scheme, rest) = split_scheme(value);
    if ureq::ProxyProtocol::try_from(scheme).is_err() {
        return "its scheme is not http://, https:// or a SOCKS one";
    }
    if let Some(info) = userinfo(value) {
        if Proxy::new(&format!("{scheme}://{}", &rest[info.len() + 1..])).is_ok() {
            return USERINFO_NOT_ENCODED;
        }
    }
    "it is not a proxy URL like http://host:port"
}

/// `proxy` as ureq must use it: NO_PROXY's `entries` (comma-separated, as ureq reads them)
/// attached, and the target never resolved locally (a SOCKS4 or SOCKS5 proxy would otherwise
/// have ureq look the Vault host up before the connector refuses SOCKS).
fn prepared(proxy: &Proxy, no_proxy: Option<&str>) -> Result<Proxy, ureq::Error> {
    let mut builder = Proxy::builder(proxy.protocol()).host(proxy.host()).port(proxy.port()).resolve_target(false);
    if let Some(user) = proxy.username() {
        builder = builder.username(user);
        if let Some(password) = proxy.password() {
            builder = builder.password(password);
        }
    }
    for entry in no_proxy.into_iter().flat_map(|list| list.split(',')) {
        builder = builder.no_proxy(entry);
    }
    builder.build()
}

fn no_proxy_from_env() -> Option<String> {
    NO_PROXY_VARIABLES.iter().find_map(|v| std::env::var(v).ok())
}

/// The proxy the HTTPS agent is configured with and the gate its connections pass. An
/// unusable variable still gets a proxy (a placeholder that is never dialled) so that ureq
/// keeps NO_PROXY's exemptions, looks no proxied host up, and the gate refuses the rest.
fn https_proxy(rule: &ProxyRule) -> Result<(Option<Proxy>, ProxyGate), Error> {
    let arg = |e: ureq::Error| Error::arg(format!("the proxy URL is not usable: {e}"));
    match rule {
        ProxyRule::Never => Ok((None, ProxyGate::default())),
        ProxyRule::Url(url) => {
            let proxy = Proxy::new(url).and_then(|p| prepared(&p, None)).map_err(arg)?;
            Ok((Some(proxy), ProxyGate::named("the client's proxy URL")))
        }
        ProxyRule::FromEnvironment => {
            let no_proxy = no_proxy_from_env();
            let unusable = |variable: &'static str, why: &str| {
                let placeholder = Proxy::builder(ureq::ProxyProtocol::Http).host("unusable-proxy.invalid").port(9);
                let placeholder = prepared(&placeholder.build().map_err(arg)?, no_proxy.as_deref()).map_err(arg)?;
                let message = format!(
                    "{variable} is set but names no usable proxy ({why}); nothing was sent: \
                     fix it (http://[user:password@]host:port), unset it or list the host in NO_PROXY"
                );
                Ok((Some(placeholder), ProxyGate::unusable(variable, message)))
            };
            match env_proxy(|v| std::env::var_os(v)) {
                EnvProxy::Unset => Ok((None, ProxyGate::default())),
                EnvProxy::Unusable { variable, why } => unusable(variable, why),
                EnvProxy::Use { proxy, variable } => match prepared(&proxy, no_proxy.as_deref()) {
                    Ok(proxy) => Ok((Some(proxy), ProxyGate::named(variable))),
                    Err(_) => unusable(variable, "it is not a proxy URL like http://host:port"),
                },
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// Which certificates a server's chain must lead to.
    pub trust: TrustRoots,
    pub proxy: ProxyRule,
    /// Sent as X-VaultAPI-ClientID.
    pub client_id: String,
    /// Idle connections kept in the pool (in total and per origin); 0 keeps none.
    pub max_idle_connections: usize,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            trust: TrustRoots::BuiltIn,
            proxy: ProxyRule::FromEnvironment,
            client_id: DEFAULT_CLIENT_ID.to_owned(),
            max_idle_connections: DEFAULT_MAX_IDLE_CONNECTIONS,
        }
    }
}

impl ClientSettings {
    /// The private client of a listing opened without one: its trust and client ID, the
    /// proxy from the environment.
    pub fn of_listing(settings: &Settings) -> ClientSettings {
        ClientSettings {
            trust: settings.trust.clone(),
            client_id: settings.client_id.clone(),
            ..ClientSettings::default()
        }
    }
}

/// Cheap to clone; clones share everything, and the last one dropped closes the pool.
#[derive(Clone, Debug)]
pub struct Client(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    https: Agent,
    http: Agent,
    client_id: String,
}

impl Client {
    /// Fails (E_ARG) only for a [`ProxyRule::Url`] that ureq cannot use. An unusable proxy
    /// variable fails each HTTPS request it applies to instead (E_NETWORK, before any
    /// connection), so plain-http listings and NO_PROXY hosts keep working.
    pub fn new(settings: &ClientSettings) -> Result<Client, Error> {
        let resolver = CachingResolver::default();
        let (proxy, gate) = https_proxy(&settings.proxy)?;
        let agent = |proxy: Option<Proxy>, gate: ProxyGate, tls: TlsConfig| {
            let config = Agent::config_builder()
                .proxy(proxy)
                .http_status_as_error(false)
                // Redirects are followed by hand, so every hop is checked against the origin.
                .max_redirects(0)
                .user_agent(concat!("libvault_parts/", env!("CARGO_PKG_VERSION")))
                .max_idle_connections(settings.max_idle_connections)
                .max_idle_connections_per_host(settings.max_idle_connections)
                .tls_config(tls)
                .build();
            Agent::with_parts(config, crate::net::connector(gate), resolver.clone())
        };
        Ok(Client(Arc::new(Shared {
            https: agent(proxy, gate, tls_config(settings)),
            http: agent(None, ProxyGate::default(), TlsConfig::default()),
            client_id: settings.client_id.clone(),
        })))
    }

    /// The agent for an origin: HTTPS, or plain http (loopback, never proxied).
    pub fn agent(&self, secure: bool) -> &Agent {
        if secure {
            &self.0.https
        } else {
            &self.0.http
        }
    }

    pub fn client_id(&self) -> &str {
        &self.0.client_id
    }
}

fn tls_config(settings: &ClientSettings) -> TlsConfig {
    let mut tls = TlsConfig::builder();
    if let Some(certs) = settings.trust.certs() {
        let certs: Vec<Certificate<'static>> =
            certs.into_iter().map(|der| Certificate::from_der(der).to_owned()).collect();
        tls = tls.root_certs(RootCerts::new_with_certs(&certs));
    }
    tls.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::RequestContext;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::Mutex;
    use std::thread;
    use vault_sim::tls::TestCa;
    use vault_sim::{Config, Sim, Upload};

    const ALICE: &str = "alice-session-0123456789abcdef0123456789abcdef0123456789abcdef";
    const BOB: &str = "bob-session-fedcba9876543210fedcba9876543210fedcba9876543210ff";

    fn sim(tls: Option<&TestCa>) -> Sim {
        let mut config = Config::default()
            .user(ALICE, "alice", false)
            .user(BOB, "bob", false)
            .upload(Upload::new("up-a", "alice", 3))
            .upload(Upload::new("up-b", "bob", 2));
        config.tls = tls.map(|ca| ca.identity(&["127.0.0.1"]));
        Sim::start(config).unwrap()
    }

    fn ca_der(ca: &TestCa) -> Vec<u8> {
        match ureq::tls::parse_pem(ca.pem().as_bytes()).next() {
            Some(Ok(ureq::tls::PemItem::Certificate(cert))) => cert.der().to_vec(),
            _ => panic!("the test CA's PEM holds no certificate"),
        }
    }

    fn client(ca: Option<&TestCa>) -> Client {
        Client::new(&ClientSettings {
            trust: ca.map_or(TrustRoots::BuiltIn, |ca| TrustRoots::Only(vec![ca_der(ca)])),
            proxy: ProxyRule::Never,
            ..ClientSettings::default()
        })
        .unwrap()
    }

    /// One page of `upload` as `session`, under a fresh request context: status and body.
    fn list(client: &Client, base: &str, session: &str, upload: &str) -> (u16, String, RequestContext) {
        let ctx = RequestContext::default();
        let url = format!("{base}/api/v25.3/services/file_staging/upload/{upload}/parts");
        let (status, body) = ctx.run(|| {
            let mut response = client
                .agent(base.starts_with("https"))
                .get(&url)
                .header("Authorization", session)
                .header("X-VaultAPI-ClientID", client.client_id())
                .call()
                .unwrap();
            (response.status().as_u16(), response.body_mut().read_to_string().unwrap())
        });
        (status, body, ctx)
    }

    #[test]
    fn twenty_listings_one_after_another_share_one_connection() {
        for ca in [None, Some(TestCa::new("client test CA"))] {
            let sim = sim(ca.as_ref());
            let client = client(ca.as_ref());
            for i in 0..20 {
                let (status, body, ctx) = list(&client, &sim.url(), ALICE, "up-a");
                assert_eq!(status, 200, "{body}");
                assert!(body.contains(r#""part_number":3"#), "{body}");
                assert_eq!(ctx.stats.connections(), u64::from(i == 0));
                assert!(ctx.stats.bytes_received() >= body.len() as u64);
            }
            assert_eq!(sim.connections(), 1, "{}", sim.url());
            assert!(sim.requests().iter().all(|r| r.header("X-VaultAPI-ClientID") == Some(DEFAULT_CLIENT_ID)));
        }
    }

    #[test]
    fn a_pooled_connection_carries_each_listings_own_session_id() {
        let sim = sim(None);
        let client = client(None);
        for (session, upload) in [(ALICE, "up-a"), (BOB, "up-b"), (ALICE, "up-a"), (BOB, "up-b")] {
            let (status, body, _) = list(&client, &sim.url(), session, upload);
            assert_eq!(status, 200, "{body}");
        }
        let requests = sim.requests();
        assert_eq!(requests.len(), 4);
        for r in &requests {
            assert_eq!(r.connection, 1);
            let expected = if r.path.contains("/up-a/") { ALICE } else { BOB };
            assert_eq!(r.header("Authorization"), Some(expected), "{}", r.path);
        }
    }

    #[test]
    fn sixteen_threads_list_at_once_on_one_client() {
        let ca = TestCa::new("client test CA");
        let sim = sim(Some(&ca));
        // As many idle connections as threads: a connection is opened only when all are busy.
        let settings = ClientSettings {
            trust: TrustRoots::Only(vec![ca_der(&ca)]),
            proxy: ProxyRule::Never,
            max_idle_connections: 16,
            ..ClientSettings::default()
        };
        let client = Client::new(&settings).unwrap();
        let url = sim.url();
        let workers: Vec<_> = (0..16)
            .map(|i| {
                let (client, url) = (client.clone(), url.clone());
                thread::spawn(move || {
                    let (session, upload, last) = if i % 2 == 0 { (ALICE, "up-a", 3) } else { (BOB, "up-b", 2) };
                    for _ in 0..10 {
                        let (status, body, _) = list(&client, &url, session, upload);
                        assert_eq!(status, 200, "{body}");
                        assert!(body.contains(&format!(r#""part_number":{last}"#)), "{body}");
                    }
                })
            })
            .collect();
        drop(client);
        for w in workers {
            w.join().unwrap();
        }
        let requests = sim.requests();
        assert_eq!(requests.len(), 160);
        assert!(sim.connections() <= 16, "{} connections", sim.connections());
        for r in &requests {
            let expected = if r.path.contains("/up-a/") { ALICE } else { BOB };
            assert_eq!(r.header("Authorization"), Some(expected));
        }
    }

    #[test]
    fn a_clone_outlives_the_client_it_came_from() {
        let sim = sim(None);
        let original = client(None);
        let listing = original.clone();
        drop(original);
        assert_eq!(list(&listing, &sim.url(), ALICE, "up-a").0, 200);
    }

    /// A TLS server that answers one request per connection and records for each handshake
    /// whether it was full or resumed.
    fn resumption_server(ca: &TestCa) -> (String, Arc<Mutex<Vec<rustls::HandshakeKind>>>) {
        use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let identity = ca.identity(&["127.0.0.1"]);
        let chain = identity.chain.iter().map(|c| CertificateDer::from(c.clone())).collect();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(identity.key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("https://{}", listener.local_addr().unwrap());
        let kinds = Arc::new(Mutex::new(Vec::new()));
        let seen = kinds.clone();
        thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let conn = rustls::ServerConnection::new(config.clone()).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut head = Vec::new();
                let mut byte = [0u8];
                while !head.ends_with(b"\r\n\r\n") && tls.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                seen.lock().unwrap().push(tls.conn.handshake_kind().unwrap());
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        (url, kinds)
    }

    #[test]
    fn new_connections_resume_the_tls_session() {
        let ca = TestCa::new("resumption CA");
        let (url, kinds) = resumption_server(&ca);
        let client = client(Some(&ca));
        for _ in 0..3 {
            let mut response = client.agent(true).get(&url).call().unwrap();
            assert_eq!(response.body_mut().read_to_string().unwrap(), "ok");
        }
        use rustls::HandshakeKind::{Full, Resumed};
        assert_eq!(*kinds.lock().unwrap(), [Full, Resumed, Resumed]);
    }

    /// A CONNECT proxy on loopback: records each CONNECT line; relays, or never answers.
    fn connect_proxy(answer: bool) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let lines = Arc::new(Mutex::new(Vec::new()));
        let seen = lines.clone();
        thread::spawn(move || {
            for mut client in listener.incoming().flatten() {
                let seen = seen.clone();
                thread::spawn(move || {
                    let mut head = Vec::new();
                    let mut byte = [0u8];
                    while !head.ends_with(b"\r\n\r\n") && client.read(&mut byte).is_ok_and(|n| n == 1) {
                        head.push(byte[0]);
                    }
                    let line = String::from_utf8_lossy(&head).lines().next().unwrap_or("").to_owned();
                    seen.lock().unwrap().push(line.clone());
                    let target = line.split(' ').nth(1).unwrap_or("").to_owned();
                    if !answer {
                        return thread::sleep(std::time::Duration::from_secs(20));
                    }
                    let server = std::net::TcpStream::connect(target).unwrap();
                    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").unwrap();
                    let (mut up, mut down) = (server.try_clone().unwrap(), client.try_clone().unwrap());
                    thread::spawn(move || std::io::copy(&mut up, &mut down));
                    let _ = std::io::copy(&mut client, &mut { server });
                });
            }
        });
        (url, lines)
    }

    #[test]
    fn https_goes_through_the_configured_connect_proxy_over_the_stoppable_layer() {
        let ca = TestCa::new("proxy CA");
        let sim = sim(Some(&ca));
        let (proxy, lines) = connect_proxy(true);
        let settings = ClientSettings {
            trust: TrustRoots::Only(vec![ca_der(&ca)]),
            proxy: ProxyRule::Url(proxy),
            ..ClientSettings::default()
        };
        let client = Client::new(&settings).unwrap();
        for i in 0..3 {
            let (status, body, ctx) = list(&client, &sim.url(), ALICE, "up-a");
            assert_eq!(status, 200, "{body}");
            assert_eq!(ctx.stats.connections(), u64::from(i == 0), "the proxy connection is counted once");
        }
        assert_eq!(*lines.lock().unwrap(), [format!("CONNECT {} HTTP/1.1", sim.addr())]);

        // A proxy that never answers CONNECT is stopped like any other peer.
        let (silent, _) = connect_proxy(false);
        let settings = ClientSettings { proxy: ProxyRule::Url(silent), ..settings };
        let client = Client::new(&settings).unwrap();
        let ctx = RequestContext::default();
        let interrupt = ctx.stops.interrupt.clone();
        let raiser = thread::spawn(move || {
            thread::sleep(std::time::Duration::from_millis(150));
            interrupt.interrupt();
            std::time::Instant::now()
        });
        let error = ctx.run(|| client.agent(true).get(sim.url()).call()).unwrap_err();
        let latency = raiser.join().unwrap().elapsed();
        assert_eq!(crate::net::stop_of(&error), Some(crate::cancel::Stop::Cancelled), "{error:?}");
        assert!(latency < std::time::Duration::from_millis(100), "returned {latency:?} after the interrupt");
    }

    /// The variable `env_proxy` picks from `vars`, and the proxy's host (or why it is unusable).
    fn picked(vars: &[(&str, &[u8])]) -> Option<(&'static str, String)> {
        use std::os::unix::ffi::OsStrExt;
        let get =
            |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| std::ffi::OsStr::from_bytes(v).to_owned());
        match env_proxy(get) {
            EnvProxy::Unset => None,
            EnvProxy::Use { proxy, variable } => Some((variable, proxy.host().to_owned())),
            EnvProxy::Unusable { variable, why } => Some((variable, format!("unusable: {why}"))),
        }
    }

    #[test]
    fn https_reads_https_proxy_then_all_proxy_then_http_proxy_lower_case_first() {
        let value = |name: &str| format!("http://{}:1", name.replace('_', "-"));
        let values: Vec<String> = HTTPS_PROXY_VARIABLES.iter().map(|n| value(n)).collect();
        for first in 0..HTTPS_PROXY_VARIABLES.len() {
            // The variables before `first` are unset, then set empty: skipped either way.
            let later = HTTPS_PROXY_VARIABLES.iter().zip(&values).skip(first);
            let unset: Vec<(&str, &[u8])> = later.clone().rev().map(|(n, v)| (*n, v.as_bytes())).collect();
            let empty: Vec<(&str, &[u8])> = HTTPS_PROXY_VARIABLES[..first].iter().map(|n| (*n, &b""[..])).collect();
            let name = HTTPS_PROXY_VARIABLES[first];
            let host = name.replace('_', "-");
            assert_eq!(picked(&unset), Some((name, host.clone())), "{unset:?}");
            assert_eq!(picked(&[empty, unset].concat()), Some((name, host)));
        }
        assert_eq!(
            HTTPS_PROXY_VARIABLES,
            ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "http_proxy", "HTTP_PROXY"]
        );
        assert_eq!(picked(&[]), None);
        assert_eq!(picked(&[("HTTPS_PROXY", b"")]), None, "set empty is unset");
        assert_eq!(picked(&[("NO_PROXY", b"*")]), None);
    }

    #[test]
    fn an_unusable_proxy_variable_is_reported_never_skipped_and_never_quoted() {
        for (value, why) in [
            (&b"http://u:p%zz@h:3128"[..], "its user:password part is not valid"),
            (b"http://u:p%FF@h:3128", "its user:password part is not valid"),
            (b"ftp://u:secret@h:21", "its scheme is not http://, https:// or a SOCKS one"),
            (b"http://u:secret@", "it is not a proxy URL like http://host:port"),
            (b"http://u:secret@h:3128\xff", "its value is not UTF-8"),
        ] {
            // The value that applies decides even when a later variable would work.
            let (variable, what) = picked(&[("HTTPS_PROXY", value), ("HTTP_PROXY", b"http://fine:1")]).unwrap();
            assert_eq!(variable, "HTTPS_PROXY");
            assert!(what.starts_with("unusable: ") && what.contains(why), "{value:?}: {what}");
            assert!(!what.contains("secret") && !what.contains("p%") && !what.contains("u:"), "{what}");
        }
    }

    #[test]
    fn a_socks_proxy_never_has_the_target_resolved_locally() {
        for scheme in ["socks4", "socks4a", "socks5", "socks5h", "http"] {
            let proxy = Proxy::new(&format!("{scheme}://user:pw@127.0.0.1:1080")).unwrap();
            let prepared = prepared(&proxy, Some("a.example,.b.example")).unwrap();
            assert!(!prepared.resolve_target(), "{scheme}");
            assert_eq!((prepared.protocol(), prepared.host(), prepared.port()), (proxy.protocol(), "127.0.0.1", 1080));
            assert_eq!((prepared.username(), prepared.password()), (Some("user"), Some("pw")));
            let uri = |host: &str| format!("https://{host}/").parse::<ureq::http::Uri>().unwrap();
            assert!(prepared.is_no_proxy(&uri("a.example")) && prepared.is_no_proxy(&uri("x.b.example")));
            assert!(!prepared.is_no_proxy(&uri("c.example")));
        }
    }

    #[test]
    fn proxy_rules() {
        let with = |proxy| Client::new(&ClientSettings { proxy, ..ClientSettings::default() });
        let client = with(ProxyRule::Url("http://proxy.example:3128".into())).unwrap();
        assert_eq!(client.agent(true).config().proxy().map(|p| (p.host(), p.port())), Some(("proxy.example", 3128)));
        assert!(client.agent(false).config().proxy().is_none(), "plain http is never proxied");
        assert!(with(ProxyRule::Never).unwrap().agent(true).config().proxy().is_none());
        let error = with(ProxyRule::Url("ftp://nope".into())).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Arg);
    }
}
