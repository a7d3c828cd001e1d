//! The TCP layer under ureq, stoppable from another thread.
//!
//! A pooled connection serves many handles over its life, so nothing about a handle is
//! bound to the connection: each connect, read and write looks up the [`RequestContext`] of
//! the request now running on this thread (set with [`RequestContext::run`] around the agent
//! call and the reading of the body) and obeys its interrupt and deadlines: the operation's,
//! and the attempt's, which moves with progress ([`AttemptClock`]). Blocking socket
//! calls wait at most [`SLICE`] before looking again, so an interrupt is noticed within that
//! time; the socket timeouts are set only when the slice they need changes (near a deadline),
//! so a request costs no extra system calls. TLS (rustls) and CONNECT proxies run over this
//! layer, so the handshake and every body read are covered too.

use crate::cancel::{AttemptClock, Stop, Stops};
use std::cell::RefCell;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Weak};
use std::time::{Duration, Instant};
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, RustlsConnector,
    ShutdownHandle, Transport,
};
use ureq::{Error, Timeout};

/// Longest one blocking socket call waits before the interrupt is looked at again.
pub(crate) const SLICE: Duration = Duration::from_millis(40);

/// What one handle's requests cost on the network.
#[derive(Debug, Default)]
pub struct IoStats {
    connections: AtomicU64,
    bytes_received: AtomicU64,
    bytes_written: AtomicU64,
}

impl IoStats {
    /// TCP connections opened (to the server or to a proxy).
    pub fn connections(&self) -> u64 {
        self.connections.load(Ordering::Relaxed)
    }

    /// Bytes read from sockets: HTTP heads and bodies, and TLS records when over HTTPS.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received.load(Ordering::Relaxed)
    }

    /// HTTP bytes handed to connections (request heads and bodies, before TLS; a CONNECT to a
    /// proxy and TLS handshakes are not counted): unchanged across a failed attempt means the
    /// request never left, so even a request that must not run twice may be tried again.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written.load(Ordering::Relaxed)
    }
}

/// What the network calls of one request obey, and where they are counted.
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    /// The handle's interrupt and the operation's deadline.
    pub stops: Stops,
    /// The end of this attempt (every hop of it), moved by each body byte sent or received.
    pub attempt: AttemptClock,
    pub stats: Arc<IoStats>,
}

thread_local! {
    static CURRENT: RefCell<Option<RequestContext>> = const { RefCell::new(None) };
}

impl RequestContext {
    /// Runs `f` with this context governing every network call it makes on this thread.
    /// Wrap the agent call and the reading of the response body (both run on the caller's
    /// thread). Nested calls see the innermost context; the previous one is restored after.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore(Option<RequestContext>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let previous = self.0.take();
                let _ = CURRENT.try_with(|c| *c.borrow_mut() = previous);
            }
        }
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.clone()));
        let _restore = Restore(previous);
        f()
    }
}

fn with_current<R>(f: impl FnOnce(&RequestContext) -> R) -> Option<R> {
    CURRENT.try_with(|c| c.borrow().as_ref().map(f)).ok().flatten()
}

/// The stop carried by an error out of an agent call or body read, if the error is one.
pub fn stop_of(error: &Error) -> Option<Stop> {
    // ureq's error does not name its io::Error as its source.
    let mut cause: Option<&(dyn std::error::Error + 'static)> = match error {
        Error::Io(io) => Some(io),
        other => Some(other),
    };
    while let Some(e) = cause {
        if let Some(stop) = e.downcast_ref::<Stop>() {
            return Some(*stop);
        }
        // io::Error's source() skips the error it wraps; get_ref() does not.
        cause = match e.downcast_ref::<io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as _),
            None => e.source(),
        };
    }
    None
}

fn stop_error(stop: Stop) -> Error {
    // Never ErrorKind::Interrupted: readers retry that kind, and a stop is sticky.
    let kind = if stop == Stop::Cancelled { io::ErrorKind::Other } else { io::ErrorKind::TimedOut };
    Error::Io(io::Error::new(kind, stop))
}

/// When the network call in progress must give up, and what it reports then.
#[derive(Clone, Copy, Debug)]
struct Limit {
    end: Option<Instant>,
    expiry: Expiry,
}

#[derive(Clone, Copy, Debug)]
enum Expiry {
    /// ureq's own timeout for this step.
    Ureq(Timeout),
    Stop(Stop),
}

impl Limit {
    /// The earliest of ureq's timeout and the context's deadlines (the operation's wins a tie).
    fn of(timeout: NextTimeout) -> Result<Limit, Error> {
        if timeout.after.is_zero() {
            return Err(Error::Timeout(timeout.reason));
        }
        let ureq_end = timeout.not_zero().and_then(|after| Instant::now().checked_add(*after));
        let mut limit = Limit { end: ureq_end, expiry: Expiry::Ureq(timeout.reason) };
        with_current(|ctx| {
            let deadlines =
                [(ctx.attempt.deadline(), Stop::AttemptTimeout), (ctx.stops.deadline, Stop::OperationDeadline)];
            for (deadline, stop) in deadlines {
                if let Some(at) = deadline.instant() {
                    if limit.end.is_none_or(|end| at <= end) {
                        limit = Limit { end: Some(at), expiry: Expiry::Stop(stop) };
                    }
                }
            }
        });
        Ok(limit)
    }

    fn expired(&self) -> Error {
        match self.expiry {
            Expiry::Ureq(reason) => Error::Timeout(reason),
            Expiry::Stop(stop) => stop_error(stop),
        }
    }

    /// How long the next blocking call may wait, or the error to stop with now.
    fn next_wait(&self) -> Result<Duration, Error> {
        if with_current(|ctx| ctx.stops.interrupt.is_raised()) == Some(true) {
            return Err(stop_error(Stop::Cancelled));
        }
        let Some(end) = self.end else { return Ok(SLICE) };
        match end.saturating_duration_since(Instant::now()) {
            left if left.is_zero() => Err(self.expired()),
            left => Ok(left.min(SLICE)),
        }
    }
}

/// Runs `job` on a helper thread and waits for it slice by slice under the current context
/// and ureq's `timeout`: for a blocking call that cannot be stopped (getaddrinfo). On a stop
/// the caller returns at once and the thread finishes on its own.
pub fn run_beside<T: Send + 'static>(
    timeout: NextTimeout,
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    let limit = Limit::of(timeout)?;
    limit.next_wait()?;
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("vault_parts-resolve".into())
        .spawn(move || drop(tx.send(job())))
        .map_err(Error::Io)?;
    loop {
        match rx.recv_timeout(limit.next_wait()?) {
            Ok(value) => return Ok(value),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Error::Io(io::Error::other("the helper thread ended without an answer")))
            }
        }
    }
}

/// A socket call that gave up only because its slice ended (or a signal came).
fn is_wait_over(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted)
}

/// Sets a socket timeout unless it is already the one wanted.
fn arm(
    armed: &mut Option<Duration>,
    wanted: Duration,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    if *armed != Some(wanted) {
        set(Some(wanted))?;
        *armed = Some(wanted);
    }
    Ok(())
}

/// ureq's connector chain (CONNECT proxies, TCP, rustls) with this module's TCP layer, behind
/// `gate` (which refuses what must not reach any peer), and on top the count of HTTP bytes
/// written.
pub fn connector(gate: ProxyGate) -> impl Connector<()> {
    let tunnel = ProxyTunnel { inner: ConnectProxyConnector::default(), source: gate.source() };
    ().chain(gate).chain(tunnel).chain(NetConnector).chain(TlsHandshake::default()).chain(WrittenConnector)
}

/// The head of the chain: traffic never goes around a proxy it was told to use. It runs
/// before any connection, and before any name lookup of a proxied host (ureq looks none up
/// for a proxy that resolves the target remotely, which is how `client` configures every
/// proxy). A connection that a proxy applies to (one NO_PROXY does not exempt) fails here
/// when the proxy variable is unusable, or names a SOCKS proxy: only CONNECT proxies run in
/// this chain (ureq's SOCKS connector would open its own sockets, outside the interrupt and
/// the timeouts). Messages name the variable, never its value: it may hold credentials.
#[derive(Clone, Debug, Default)]
pub struct ProxyGate {
    /// Where the proxy came from, as messages name it ("HTTPS_PROXY").
    source: Option<&'static str>,
    /// Why the proxy that applies cannot be used: every proxied connection fails with it.
    unusable: Option<Arc<str>>,
}

impl ProxyGate {
    /// The gate of a proxy that `source` names.
    pub fn named(source: &'static str) -> ProxyGate {
        ProxyGate { source: Some(source), unusable: None }
    }

    /// The gate of a proxy variable that names nothing usable: `message` says why.
    pub fn unusable(source: &'static str, message: String) -> ProxyGate {
        ProxyGate { source: Some(source), unusable: Some(message.into()) }
    }

    fn source(&self) -> &'static str {
        self.source.unwrap_or("the proxy setting")
    }

    fn check(&self, details: &ConnectionDetails) -> Result<(), Error> {
        let Some(proxy) = details.config.proxy() else { return Ok(()) };
        if proxy.is_no_proxy(details.uri) {
            return Ok(());
        }
        // Unsupported: never retried (transport.rs), as no attempt could go otherwise.
        let refuse = |message: String| Err(Error::Io(io::Error::new(io::ErrorKind::Unsupported, message)));
        if let Some(why) = &self.unusable {
            return refuse(why.to_string());
        }
        if !matches!(proxy.protocol(), ureq::ProxyProtocol::Http | ureq::ProxyProtocol::Https) {
            return refuse(format!(
                "{} names a {} proxy and SOCKS is not supported: name an HTTP CONNECT proxy \
                 (http://host:port) or list the host in NO_PROXY; nothing was sent",
                self.source(),
                proxy.protocol()
            ));
        }
        Ok(())
    }
}

impl<In: Transport> Connector<In> for ProxyGate {
    type Out = In;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<In>, Error> {
        if chained.is_none() {
            self.check(details)?;
        }
        Ok(chained)
    }
}

/// ureq's CONNECT connector, its refusals reworded: a proxy that refuses the tunnel says
/// only "proxy server responded 407/407" in ureq, which hides that the credentials were
/// refused. The rewording names no proxy URL (it may hold credentials).
#[derive(Debug)]
pub struct ProxyTunnel {
    inner: ConnectProxyConnector,
    /// The proxy's variable, as messages name it.
    source: &'static str,
}

impl<In: Transport> Connector<In> for ProxyTunnel {
    type Out = <ConnectProxyConnector as Connector<In>>::Out;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, Error> {
        self.inner.connect(details, chained).map_err(|e| match e {
            Error::ConnectProxyFailed(reason) => {
                let sent_credentials =
                    details.config.proxy().is_some_and(|p| p.username().is_some() || p.password().is_some());
                let (kind, message) = proxy_refusal(self.source, &reason, sent_credentials);
                Error::Io(io::Error::new(kind, message))
            }
            other => other,
        })
    }
}

/// What a CONNECT refusal means, from ureq's reason ("proxy server responded 407/407"), and
/// its kind: PermissionDenied (never retried: another attempt sends the same credentials) for
/// a 401 or 407, Other (retried as any network failure) for the rest.
fn proxy_refusal(source: &str, reason: &str, sent_credentials: bool) -> (io::ErrorKind, String) {
    let status = reason
        .strip_prefix("proxy server responded ")
        .and_then(|r| r.split('/').next())
        .and_then(|code| code.parse::<u16>().ok());
    let kind = if matches!(status, Some(401 | 407)) { io::ErrorKind::PermissionDenied } else { io::ErrorKind::Other };
    let message = match status {
        Some(status @ (401 | 407)) if sent_credentials => format!(
            "the proxy ({source}) refused the credentials in its URL (it answered HTTP {status}): \
             check the user name and password there"
        ),
        Some(status @ (401 | 407)) => format!(
            "the proxy ({source}) wants credentials (it answered HTTP {status}): \
             give them in its URL (http://user:password@host:port)"
        ),
        Some(status) => {
            format!("the proxy ({source}) refused the tunnel to the Vault host (it answered HTTP {status})")
        }
        None => format!("the proxy ({source}) failed the tunnel to the Vault host: {reason}"),
    };
    (kind, message)
}

/// What a TLS handshake failure that points at a plain-HTTP server adds to its message.
pub(crate) const PLAIN_HTTP_HINT: &str = "is it a plain-HTTP server? (http:// is accepted for loopback hosts)";

/// ureq's rustls connector (it runs the whole handshake), its failures reworded where they
/// point at a server that does not speak TLS (an https:// URL, or a bare host, at a plain-HTTP
/// port): rustls says only "unexpected end of file" when the server closes the connection on
/// the ClientHello, and "received corrupt message of type InvalidContentType" when it answers
/// with HTTP text (a 400). The kinds stay, so each failure keeps its class (transport.rs): a
/// close or reset is a network failure (retried), a corrupt message a TLS failure (not).
#[derive(Debug, Default)]
pub struct TlsHandshake(RustlsConnector);

impl<In: Transport> Connector<In> for TlsHandshake {
    type Out = <RustlsConnector as Connector<In>>::Out;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, Error> {
        self.0.connect(details, chained).map_err(handshake_failure)
    }
}

/// A failure of the handshake, reworded when it looks like a plain-HTTP peer.
fn handshake_failure(e: Error) -> Error {
    let Error::Io(io) = e else { return e };
    let kind = io.kind();
    let closed = match kind {
        io::ErrorKind::UnexpectedEof => "closed the connection",
        io::ErrorKind::ConnectionReset => "reset the connection",
        io::ErrorKind::InvalidData if io.get_ref().is_some_and(is_not_tls) => {
            let inner = io.into_inner().and_then(|e| e.downcast::<rustls::Error>().ok());
            return match inner {
                Some(tls) => Error::Io(io::Error::new(kind, NotTls(*tls))),
                None => Error::Io(io::Error::from(kind)),
            };
        }
        _ => return Error::Io(io),
    };
    Error::Io(io::Error::new(kind, format!("the server {closed} during the TLS handshake: {PLAIN_HTTP_HINT}")))
}

/// Whether rustls refused the server's first bytes as no TLS record at all (HTTP text reads
/// as an unknown content type).
fn is_not_tls(e: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    matches!(
        e.downcast_ref::<rustls::Error>(),
        Some(rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType))
    )
}

/// rustls's refusal of an answer that is not TLS, with the hint; its source stays the rustls
/// error, so the failure is still told apart as a TLS one (transport.rs).
#[derive(Debug)]
struct NotTls(rustls::Error);

impl std::fmt::Display for NotTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the server's answer to the TLS handshake is not TLS ({}): {PLAIN_HTTP_HINT}", self.0)
    }
}

impl std::error::Error for NotTls {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The top of the chain: what ureq writes here is HTTP, whatever runs below (TLS, a proxy
/// tunnel), so this is where [`IoStats::bytes_written`] is counted.
#[derive(Debug, Default)]
pub struct WrittenConnector;

impl<In: Transport> Connector<In> for WrittenConnector {
    type Out = Written<In>;

    fn connect(&self, _: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, Error> {
        Ok(chained.map(Written))
    }
}

/// A connection whose writes are counted for the request running on it.
#[derive(Debug)]
pub struct Written<T>(T);

impl<T: Transport> Transport for Written<T> {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.0.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        // Counted before: a write that fails may still have sent part of it.
        with_current(|ctx| ctx.stats.bytes_written.fetch_add(amount as u64, Ordering::Relaxed));
        self.0.transmit_output(amount, timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        self.0.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.0.is_open()
    }

    fn is_tls(&self) -> bool {
        self.0.is_tls()
    }
}

#[derive(Debug, Default)]
pub struct NetConnector;

impl<In: Transport> Connector<In> for NetConnector {
    type Out = Either<In, NetTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, Error> {
        // A proxy connector before this one already opened the connection (over this layer).
        if let Some(transport) = chained {
            return Ok(Some(Either::A(transport)));
        }
        let limit = Limit::of(details.timeout)?;
        let stream = connect_any(&details.addrs, &limit)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let stream = Arc::new(stream);
        // Agent shutdown (ureq) may end this connection from another thread.
        (details.register_shutdown)(Arc::downgrade(&stream) as Weak<dyn ShutdownHandle>)?;
        with_current(|ctx| ctx.stats.connections.fetch_add(1, Ordering::Relaxed));
        let config = details.config;
        let buffers = LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
        Ok(Some(Either::B(NetTransport { stream, buffers, read_armed: None, write_armed: None })))
    }
}

/// Tries each address in turn; all but the last get an equal share of the time left.
fn connect_any(addrs: &[SocketAddr], limit: &Limit) -> Result<TcpStream, Error> {
    let mut last = None;
    for (i, addr) in addrs.iter().enumerate() {
        let left = (addrs.len() - i) as u32;
        let share_end = match limit.end {
            Some(end) if left > 1 => Some(Instant::now() + end.saturating_duration_since(Instant::now()) / left),
            _ => None,
        };
        match connect_one(*addr, limit, share_end) {
            Ok(stream) => return Ok(stream),
            Err(Attempt::NextAddress(e)) => last = Some(e),
            Err(Attempt::Fail(e)) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| Error::Io(io::ErrorKind::ConnectionRefused.into())))
}

enum Attempt {
    /// This address failed in a way another address may not.
    NextAddress(Error),
    Fail(Error),
}

impl From<Error> for Attempt {
    fn from(e: Error) -> Self {
        Attempt::Fail(e)
    }
}

impl From<io::Error> for Attempt {
    fn from(e: io::Error) -> Self {
        use io::ErrorKind::*;
        match e.kind() {
            ConnectionRefused | HostUnreachable | NetworkUnreachable | NetworkDown | AddrNotAvailable => {
                Attempt::NextAddress(Error::Io(e))
            }
            _ => Attempt::Fail(Error::Io(e)),
        }
    }
}

/// A non-blocking connect, polled slice by slice.
fn connect_one(addr: SocketAddr, limit: &Limit, share_end: Option<Instant>) -> Result<TcpStream, Attempt> {
    let socket = sys::nonblocking_socket(&addr)?;
    if let Err(e) = sys::start_connect(&socket, &addr) {
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e.into());
        }
        loop {
            let mut wait = limit.next_wait()?;
            if let Some(share_end) = share_end {
                let share_left = share_end.saturating_duration_since(Instant::now());
                if share_left.is_zero() {
                    return Err(Attempt::NextAddress(Error::Timeout(Timeout::Connect)));
                }
                wait = wait.min(share_left);
            }
            if sys::poll_writable(&socket, wait)? {
                break;
            }
        }
        if let Some(e) = sys::take_socket_error(&socket)? {
            return Err(e.into());
        }
    }
    let stream = TcpStream::from(socket);
    stream.set_nonblocking(false)?;
    Ok(stream)
}

pub struct NetTransport {
    /// Shared only with ureq's shutdown registry (weakly), which may shut it down.
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    read_armed: Option<Duration>,
    write_armed: Option<Duration>,
}

impl std::fmt::Debug for NetTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetTransport").field("peer", &self.stream.peer_addr().ok()).finish()
    }
}

impl Transport for NetTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let limit = Limit::of(timeout.for_write())?;
        let mut stream = &*self.stream;
        // Written by hand, not write_all: a write cut off by its slice may have sent part.
        let mut output = &self.buffers.output()[..amount];
        while !output.is_empty() {
            let wait = limit.next_wait()?;
            arm(&mut self.write_armed, wait, |t| stream.set_write_timeout(t))?;
            match stream.write(output) {
                Ok(0) => return Err(Error::Io(io::ErrorKind::WriteZero.into())),
                Ok(n) => output = &output[n..],
                Err(e) if is_wait_over(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let limit = Limit::of(timeout.for_read())?;
        let mut stream = &*self.stream;
        let input = self.buffers.input_append_buf();
        let amount = loop {
            let wait = limit.next_wait()?;
            arm(&mut self.read_armed, wait, |t| stream.set_read_timeout(t))?;
            match stream.read(input) {
                Ok(n) => break n,
                Err(e) if is_wait_over(&e) => {}
                Err(e) => return Err(e.into()),
            }
        };
        with_current(|ctx| ctx.stats.bytes_received.fetch_add(amount as u64, Ordering::Relaxed));
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    /// Open means the peer has neither closed nor sent anything unasked: one non-blocking peek.
    fn is_open(&mut self) -> bool {
        sys::idle_and_open(&self.stream)
    }
}

/// The socket calls std does not offer.
mod sys {
    use std::io;
    use std::net::{SocketAddr, TcpStream};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::Duration;

    fn check(result: libc::c_int) -> io::Result<libc::c_int> {
        if result < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(result)
    }

    /// A TCP socket for `addr`'s family, close-on-exec and non-blocking.
    pub fn nonblocking_socket(addr: &SocketAddr) -> io::Result<OwnedFd> {
        let family = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
        // SAFETY: plain system calls on a descriptor owned from creation by OwnedFd.
        unsafe {
            let fd = OwnedFd::from_raw_fd(check(libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0))?);
            let flags = check(libc::fcntl(fd.as_raw_fd(), libc::F_GETFL))?;
            check(libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK))?;
            Ok(fd)
        }
    }

    pub fn start_connect(socket: &OwnedFd, addr: &SocketAddr) -> io::Result<()> {
        // SAFETY: sockaddr_storage is plain data, valid when zeroed, and large enough for
        // either family; the length passed is that of the structure filled in.
        unsafe {
            let mut storage: libc::sockaddr_storage = std::mem::zeroed();
            let len = match addr {
                SocketAddr::V4(a) => {
                    let sin = &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>();
                    sin.sin_family = libc::AF_INET as libc::sa_family_t;
                    sin.sin_port = a.port().to_be();
                    sin.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
                    std::mem::size_of::<libc::sockaddr_in>()
                }
                SocketAddr::V6(a) => {
                    let sin6 = &mut *(&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>();
                    sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    sin6.sin6_port = a.port().to_be();
                    sin6.sin6_addr.s6_addr = a.ip().octets();
                    sin6.sin6_flowinfo = a.flowinfo();
                    sin6.sin6_scope_id = a.scope_id();
                    std::mem::size_of::<libc::sockaddr_in6>()
                }
            };
            let raw = (&storage as *const libc::sockaddr_storage).cast::<libc::sockaddr>();
            check(libc::connect(socket.as_raw_fd(), raw, len as libc::socklen_t)).map(drop)
        }
    }

    /// Waits up to `wait` for the connect to finish (either way); false when still going.
    pub fn poll_writable(socket: &OwnedFd, wait: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd { fd: socket.as_raw_fd(), events: libc::POLLOUT, revents: 0 };
        // Rounded up, so a wait never ends just before the deadline it was cut to.
        let ms = wait.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one valid pollfd.
        match check(unsafe { libc::poll(&mut pfd, 1, ms) }) {
            Ok(n) => Ok(n > 0),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The outcome of a finished non-blocking connect.
    pub fn take_socket_error(socket: &OwnedFd) -> io::Result<Option<io::Error>> {
        let mut err: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: an int-sized option read into an int.
        check(unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut libc::c_int).cast(),
                &mut len,
            )
        })?;
        Ok((err != 0).then(|| io::Error::from_raw_os_error(err)))
    }

    /// True when nothing is waiting to be read and the peer has not closed.
    pub fn idle_and_open(stream: &TcpStream) -> bool {
        let mut byte = 0u8;
        // SAFETY: a valid socket and a 1-byte buffer.
        let n = unsafe {
            libc::recv(stream.as_raw_fd(), (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
        };
        n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::WouldBlock
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancel::Deadline;
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;
    use std::sync::atomic::AtomicUsize;
    use std::thread;
    use ureq::Agent;

    const MS: Duration = Duration::from_millis(1);

    fn agent() -> Agent {
        let config = Agent::config_builder().proxy(None).http_status_as_error(false).build();
        Agent::with_parts(
            config,
            connector(ProxyGate::default()),
            ureq::unversioned::resolver::DefaultResolver::default(),
        )
    }

    /// A loopback server handling each connection on its own thread; counts connections.
    fn serve(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let handle = Arc::new(handle);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                count.fetch_add(1, Ordering::SeqCst);
                let handle = handle.clone();
                thread::spawn(move || handle(stream));
            }
        });
        (addr, accepted)
    }

    /// Reads one request head; false when the client closed first.
    fn read_head(stream: &mut TcpStream) -> bool {
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                _ => return false,
            }
        }
        true
    }

    fn hold(stream: TcpStream) {
        thread::sleep(Duration::from_secs(20));
        drop(stream);
    }

    /// Runs `work` under a fresh context that another thread interrupts after 150 ms:
    /// the error and how long after the interrupt the work returned.
    fn interrupted(work: impl FnOnce() -> Result<(), Error>) -> (Error, Duration) {
        let ctx = RequestContext::default();
        let interrupt = ctx.stops.interrupt.clone();
        let raiser = thread::spawn(move || {
            thread::sleep(150 * MS);
            interrupt.interrupt();
            Instant::now()
        });
        let result = ctx.run(work);
        let returned = Instant::now();
        let raised = raiser.join().unwrap();
        let error = result.expect_err("the work finished although it should hang");
        (error, returned.saturating_duration_since(raised))
    }

    fn assert_cancelled_promptly((error, latency): (Error, Duration)) {
        assert_eq!(stop_of(&error), Some(Stop::Cancelled), "{error:?}");
        eprintln!("returned {latency:?} after the interrupt");
        assert!(latency < 100 * MS, "returned {latency:?} after the interrupt");
    }

    #[test]
    fn an_interrupt_ends_a_wait_for_a_server_that_never_answers() {
        let (addr, _) = serve(|mut s| {
            read_head(&mut s);
            hold(s)
        });
        assert_cancelled_promptly(interrupted(|| agent().get(format!("http://{addr}/")).call().map(drop)));
    }

    #[test]
    fn an_interrupt_ends_a_body_that_stalls_midway() {
        let (addr, _) = serve(|mut s| {
            read_head(&mut s);
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789").unwrap();
            hold(s)
        });
        assert_cancelled_promptly(interrupted(|| {
            let mut response = agent().get(format!("http://{addr}/")).call()?;
            response.body_mut().read_to_vec().map(drop)
        }));
    }

    #[test]
    fn an_interrupt_ends_a_tls_handshake_that_never_completes() {
        let (addr, _) = serve(hold);
        assert_cancelled_promptly(interrupted(|| agent().get(format!("https://{addr}/")).call().map(drop)));
    }

    #[test]
    fn an_interrupt_ends_a_connect_that_gets_no_answer() {
        // A listener whose accept queue is full drops new SYNs, so a connect hangs as it would
        // towards a host that does not answer.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        // SAFETY: a valid listening socket; listen again only changes its backlog.
        assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
        let addr = listener.local_addr().unwrap();
        let mut queued = Vec::new();
        let hung = (0..8).any(|_| match TcpStream::connect_timeout(&addr, 200 * MS) {
            Ok(s) => {
                queued.push(s);
                false
            }
            Err(_) => true,
        });
        assert!(hung, "could not fill the accept queue");
        let ctx_stats;
        let (error, latency) = {
            let ctx = RequestContext::default();
            ctx_stats = ctx.stats.clone();
            let interrupt = ctx.stops.interrupt.clone();
            let raiser = thread::spawn(move || {
                thread::sleep(150 * MS);
                interrupt.interrupt();
                Instant::now()
            });
            let result = ctx.run(|| agent().get(format!("http://{addr}/")).call().map(drop));
            let returned = Instant::now();
            (result.unwrap_err(), returned.saturating_duration_since(raiser.join().unwrap()))
        };
        assert_cancelled_promptly((error, latency));
        assert_eq!(ctx_stats.connections(), 0);
    }

    #[test]
    fn the_attempt_deadline_and_the_operation_deadline_are_told_apart() {
        let (addr, _) = serve(|mut s| {
            read_head(&mut s);
            hold(s)
        });
        for (attempt, operation, expected) in [
            (200, 10_000, Stop::AttemptTimeout),
            (10_000, 200, Stop::OperationDeadline),
            (200, 200, Stop::OperationDeadline),
        ] {
            let started = Instant::now();
            let ctx = RequestContext {
                attempt: AttemptClock::start(attempt * MS),
                stops: Stops { deadline: Deadline::at(started + operation * MS), ..Stops::default() },
                ..RequestContext::default()
            };
            let error = ctx.run(|| agent().get(format!("http://{addr}/")).call()).unwrap_err();
            let took = started.elapsed();
            assert_eq!(stop_of(&error), Some(expected), "{error:?}");
            assert!(took >= 200 * MS && took < 400 * MS, "stopped after {took:?}");
        }
    }

    #[test]
    fn without_a_context_ureqs_own_timeout_applies_and_is_no_stop() {
        let (addr, _) = serve(|mut s| {
            read_head(&mut s);
            hold(s)
        });
        let started = Instant::now();
        let error =
            agent().get(format!("http://{addr}/")).config().timeout_global(Some(200 * MS)).build().call().unwrap_err();
        assert!(matches!(error, Error::Timeout(Timeout::Global)), "{error:?}");
        assert_eq!(stop_of(&error), None);
        assert!(started.elapsed() < 400 * MS);
    }

    #[test]
    fn a_refused_connection_is_a_network_error_not_a_stop() {
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let error = RequestContext::default().run(|| agent().get(format!("http://{addr}/")).call()).unwrap_err();
        assert!(matches!(&error, Error::Io(e) if e.kind() == io::ErrorKind::ConnectionRefused), "{error:?}");
        assert_eq!(stop_of(&error), None);
    }

    #[test]
    fn a_job_beside_the_caller_is_abandoned_on_interrupt_or_timeout() {
        let slow = || thread::sleep(Duration::from_secs(5));
        assert_cancelled_promptly(interrupted(|| run_beside(NextTimeout::default(), slow)));
        let started = Instant::now();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::from_millis(200),
            reason: Timeout::Resolve,
            ..NextTimeout::default()
        };
        let error = RequestContext::default().run(|| run_beside(timeout, slow)).unwrap_err();
        assert!(matches!(error, Error::Timeout(Timeout::Resolve)), "{error:?}");
        assert!(started.elapsed() < 400 * MS);
        assert_eq!(run_beside(NextTimeout::default(), || 7).unwrap(), 7, "works without a context too");
    }

    const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    fn keep_answering(mut s: TcpStream) {
        while read_head(&mut s) {
            s.write_all(ANSWER).unwrap();
        }
    }

    #[test]
    fn a_pooled_connection_obeys_the_context_of_the_request_running_on_it() {
        let (addr, accepted) = serve(keep_answering);
        let agent = agent();
        let get = || agent.get(format!("http://{addr}/")).call()?.body_mut().read_to_string();
        let first = RequestContext::default();
        assert_eq!(first.run(get).unwrap(), "hello");
        // The first listing is cancelled after its request; the connection it used lives on
        // in the pool and serves the second, which must not see the first's interrupt.
        first.stops.interrupt.interrupt();
        let second = RequestContext::default();
        assert_eq!(second.run(get).unwrap(), "hello");
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "the connection was not reused");
        assert_eq!((first.stats.connections(), first.stats.bytes_received()), (1, ANSWER.len() as u64));
        assert_eq!((second.stats.connections(), second.stats.bytes_received()), (0, ANSWER.len() as u64));
        // The interrupted context stops its next request before anything is sent.
        let error = first.run(get).unwrap_err();
        assert_eq!(stop_of(&error), Some(Stop::Cancelled));
        assert_eq!(first.stats.bytes_received(), ANSWER.len() as u64);
    }

    #[test]
    fn many_threads_share_one_agent() {
        let (addr, accepted) = serve(keep_answering);
        let agent = agent();
        let workers: Vec<_> = (0..16)
            .map(|_| {
                let agent = agent.clone();
                thread::spawn(move || {
                    let ctx = RequestContext::default();
                    for _ in 0..20 {
                        let body = ctx.run(|| agent.get(format!("http://{addr}/")).call()?.body_mut().read_to_string());
                        assert_eq!(body.unwrap(), "hello");
                    }
                    ctx.stats.bytes_received()
                })
            })
            .collect();
        for w in workers {
            assert_eq!(w.join().unwrap(), 20 * ANSWER.len() as u64);
        }
        assert!(accepted.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn a_connection_with_unasked_bytes_or_a_closed_peer_is_not_reused() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let mut t = NetTransport {
            stream: Arc::new(stream),
            buffers: LazyBuffers::new(64, 64),
            read_armed: None,
            write_armed: None,
        };
        assert!(t.is_open());
        server.write_all(b"x").unwrap();
        thread::sleep(50 * MS);
        assert!(!t.is_open(), "unasked bytes mean the connection cannot be reused");
        drop(server);
        thread::sleep(50 * MS);
        assert!(!t.is_open());
    }
}
