//! The running simulator: accepts connections, reads each request whole, records it, applies
//! the fault that hits it and answers it through api.rs.

use crate::api::{Route, Vault};
use crate::faults::{Effect, Take};
use crate::http::{write_endless, Body, BodyEnd, Conn, Framing, Reader, Request, Response, Wire};
use crate::model::{hex, Config};
use crate::session::{JobView, SessionView, StagedFile};
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A recorded request body up to this size is kept whole in `Recorded::body`.
pub const RECORDED_BODY: usize = 64 * 1024;

/// One request as the simulator received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Which TCP connection carried it (numbered from 1 in accept order).
    pub connection: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    /// When its body had been read (or reading it stopped).
    pub at: Instant,
    /// Body bytes received (all of them unless `body_complete` is false).
    pub body_len: u64,
    /// MD5 of the body bytes received, 32 lowercase hex digits.
    pub body_md5: String,
    /// The body itself when at most RECORDED_BODY bytes were received.
    pub body: Option<Vec<u8>>,
    /// False when the body was not read to its end: the client went away, a fault cut it, or
    /// its framing was refused (400, 413, 501) before it was read.
    pub body_complete: bool,
}

impl Recorded {
    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        crate::http::find_header(&self.headers, name)
    }
}

struct Shared {
    vault: Vault,
    stop: AtomicBool,
    burst_remaining: AtomicI64,
    connections: AtomicU64,
    full_handshakes: AtomicU64,
    resumed_handshakes: AtomicU64,
    requests: Mutex<Vec<Recorded>>,
}

/// A running simulator; stops when dropped.
pub struct Sim {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

/// Room for many clients connecting at once (std listens with a backlog of 128).
const BACKLOG: i32 = 1024;

impl Sim {
    /// Binds `config.bind` and starts serving on a background thread.
    pub fn start(config: Config) -> io::Result<Sim> {
        let listener = TcpListener::bind(&config.bind)?;
        widen_backlog(&listener)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            burst_remaining: AtomicI64::new(config.burst_limit),
            vault: Vault::new(config),
            stop: AtomicBool::new(false),
            connections: AtomicU64::new(0),
            full_handshakes: AtomicU64::new(0),
            resumed_handshakes: AtomicU64::new(0),
            requests: Mutex::new(Vec::new()),
        });
        let accept_shared = shared.clone();
        let accept = thread::Builder::new()
            .name("vault-sim-accept".into())
            .spawn(move || accept_loop(listener, accept_shared))?;
        Ok(Sim { addr, shared, accept: Some(accept) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// "http://127.0.0.1:PORT" ("https://..." with TLS), the vault_url to give the library.
    pub fn url(&self) -> String {
        let scheme = if self.shared.vault.config.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// How many TCP connections have been accepted, exactly: counted at accept, before any
    /// byte is read, so every connection that carried a request is in the count by the time
    /// its client has an answer (and one that never sent anything is counted too).
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Completed TLS handshakes as (full, resumed): resumed ones reused an earlier session
    /// (TLS 1.3 PSK, or TLS 1.2 session ID or ticket). Counted when the handshake completes,
    /// before the connection's first request is read. (0, 0) over plain HTTP.
    pub fn tls_handshakes(&self) -> (u64, u64) {
        (self.shared.full_handshakes.load(Ordering::SeqCst), self.shared.resumed_handshakes.load(Ordering::SeqCst))
    }

    /// Every upload session, made at start or by a create, gone ones too, oldest first.
    pub fn sessions(&self) -> Vec<SessionView> {
        self.shared.vault.state().sessions_view()
    }

    /// The upload session with this ID, gone or not.
    pub fn session(&self, id: &str) -> Option<SessionView> {
        self.shared.vault.state().session_view(id)
    }

    /// The job a commit made.
    pub fn job(&self, job_id: u64) -> Option<JobView> {
        self.shared.vault.state().job_view(job_id, Instant::now())
    }

    /// The file a successful commit put at this staging path.
    pub fn staged(&self, path: &str) -> Option<StagedFile> {
        self.shared.vault.state().staged(path)
    }

    /// Stops accepting and ends every connection thread soon after.
    pub fn stop(&mut self) {
        if let Some(accept) = self.accept.take() {
            self.shared.stop.store(true, Ordering::SeqCst);
            let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
            let _ = accept.join();
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(unix)]
fn widen_backlog(listener: &TcpListener) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // Linux and the BSDs take a second listen() on a listening socket as a new backlog.
    // SAFETY: listen() on a socket descriptor the listener owns and keeps open.
    if unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn widen_backlog(_: &TcpListener) -> io::Result<()> {
    Ok(())
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let tls = shared.vault.config.tls.as_ref().map(crate::tls::server_config);
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
        let shared = shared.clone();
        let tls = tls.clone();
        let _ = thread::Builder::new().name(format!("vault-sim-conn-{id}")).spawn(move || {
            let _ = stream.set_nodelay(true);
            let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
            match tls {
                None => serve_connection(stream, id, &shared),
                Some(config) => serve_tls(config, stream, id, &shared),
            }
        });
    }
}

fn serve_tls(config: Arc<rustls::ServerConfig>, mut tcp: TcpStream, id: u64, shared: &Shared) {
    let Ok(mut conn) = rustls::ServerConnection::new(config) else { return };
    if crate::tls::handshake(&mut conn, &mut tcp, &shared.stop).is_err() {
        return;
    }
    let counter = match conn.handshake_kind() {
        Some(rustls::HandshakeKind::Resumed) => &shared.resumed_handshakes,
        _ => &shared.full_handshakes,
    };
    counter.fetch_add(1, Ordering::SeqCst);
    serve_connection(rustls::StreamOwned::new(conn, tcp), id, shared);
}

fn serve_connection(mut stream: impl Conn, id: u64, shared: &Shared) {
    let mut reader = Reader::new();
    while let Ok(Some(request)) = reader.head(&mut stream, &shared.stop) {
        if !exchange(&mut stream, &mut reader, &request, id, shared) {
            return;
        }
    }
}

/// One request after its head: the body read, the request recorded, the fault that hits it
/// applied, the answer written. False when the connection must end.
fn exchange(stream: &mut impl Conn, reader: &mut Reader, request: &Request, connection: u64, shared: &Shared) -> bool {
    let max_body = shared.vault.config.max_body;
    let framing = match request.framing(max_body) {
        Ok(framing) => framing,
        Err(refusal) => {
            shared.record(connection, request, &Body::unread());
            shared.send(stream, refusal, false, Wire::Plain);
            return false;
        }
    };
    let route = Route::of(request);
    let mut arrival = shared.vault.arrive(&route, request);
    let action = arrival.action.take();
    let effect = Effect::of(action.as_ref());
    let Some(body) = receive(stream, reader, request, framing, effect.take, connection, shared) else {
        return false;
    };
    thread::sleep(effect.wait);
    if let Some(take) = effect.take {
        arrival.end_put();
        return match take {
            Take::Hang => hang(&shared.stop),
            Take::Endless => {
                write_endless(stream, &shared.stop);
                false
            }
            Take::Close | Take::ResetMidBody => false,
        };
    }
    let response = match effect.canned {
        Some(response) => response,
        None => shared.vault.answer(&route, request, body, effect.tweak),
    };
    arrival.end_put();
    shared.send(stream, response, request.keep_alive(), effect.wire)
}

/// Reads and records the request's body (half of it, then RST, when `take` says so); None
/// when the connection must end instead of an answer (after a 400 or 413 for a broken or
/// oversized chunked body).
fn receive(
    stream: &mut impl Conn,
    reader: &mut Reader,
    request: &Request,
    framing: Framing,
    take: Option<Take>,
    connection: u64,
    shared: &Shared,
) -> Option<Body> {
    let max_body = shared.vault.config.max_body;
    let reset = take == Some(Take::ResetMidBody);
    let cut = reset.then_some(match framing {
        Framing::Length(n) => n / 2,
        Framing::Chunked => 1,
    });
    if request.expects_continue() && framing != Framing::Length(0) && stream.write_all(CONTINUE).is_err() {
        return None;
    }
    let body = reader.body(stream, &shared.stop, framing, max_body, cut);
    shared.record(connection, request, &body);
    let refusal = match body.end {
        _ if reset => {
            stream.linger_zero();
            return None;
        }
        BodyEnd::Complete => return Some(body),
        BodyEnd::Lost | BodyEnd::Cut => return None,
        BodyEnd::TooLarge => (413, format!("vault-sim: a request body may have at most {max_body} bytes\n")),
        BodyEnd::Malformed => (400, "vault-sim: broken chunked request body\n".to_owned()),
    };
    shared.send(stream, Response::new(refusal.0, "text/plain", refusal.1), false, Wire::Plain);
    None
}

/// The interim answer to "Expect: 100-continue".
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

impl Shared {
    fn record(&self, connection: u64, request: &Request, body: &Body) {
        let (path, query) = request.path_and_query();
        let recorded = Recorded {
            connection,
            method: request.method.clone(),
            path: path.into(),
            query: query.into(),
            headers: request.headers.clone(),
            at: Instant::now(),
            body_len: body.bytes.len() as u64,
            body_md5: hex(&body.md5),
            body: (body.bytes.len() <= RECORDED_BODY).then(|| body.bytes.clone()),
            body_complete: body.end == BodyEnd::Complete,
        };
        self.requests.lock().unwrap().push(recorded);
    }

    /// Writes `response` with the burst-limit headers; false when the connection must end.
    fn send(&self, stream: &mut impl Write, response: Response, keep_alive: bool, wire: Wire) -> bool {
        let limit = self.vault.config.burst_limit;
        let remaining = self.burst_remaining.fetch_sub(1, Ordering::SeqCst) - 1;
        let response =
            response.header("X-VaultAPI-BurstLimit", limit).header("X-VaultAPI-BurstLimitRemaining", remaining.max(0));
        matches!(response.write_to(stream, keep_alive, wire), Ok(true))
    }
}

/// Never answers: holds the connection until the server stops (at most 120 s); then it ends.
fn hang(stop: &AtomicBool) -> bool {
    let until = Instant::now() + Duration::from_secs(120);
    while !stop.load(Ordering::SeqCst) && Instant::now() < until {
        thread::sleep(Duration::from_millis(20));
    }
    false
}
