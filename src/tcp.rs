//! The plain TCP layer under ureq, with fewer system calls per request than ureq's own.
//!
//! Measured on 10,000 one-part pages (docs/benchmarks.md), ureq's TcpTransport made 10 system
//! calls per request where 2-3 do: its pool probes a connection for liveness twice per request
//! by toggling non-blocking mode around a read (3 calls each), and it re-arms the socket
//! timeouts on every request because the deadline is recomputed as time remaining. Here the
//! probe is one `recv(MSG_PEEK | MSG_DONTWAIT)` and a timeout is re-armed only when it moved by
//! more than a small tolerance. Connection set-up, proxies (CONNECT) and TLS stay ureq's.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, Transport,
};
use ureq::{Error, Timeout};

/// How far an armed socket timeout may differ from the exact remaining budget before it is
/// set again: a blocking call may overrun the attempt's deadline by at most this much.
fn tolerance(wanted: Duration) -> Duration {
    (wanted / 20).min(Duration::from_millis(100))
}

#[derive(Debug, Default)]
pub struct TcpConnector;

impl<In: Transport> Connector<In> for TcpConnector {
    type Out = Either<In, TcpTransport>;

    fn connect(&self, details: &ConnectionDetails, chained: Option<In>) -> Result<Option<Self::Out>, Error> {
        // A proxy connector before this one already opened the connection.
        if let Some(t) = chained {
            return Ok(Some(Either::A(t)));
        }
        let budget = details.timeout.not_zero().map(|d| *d);
        let mut last = None;
        for addr in details.addrs.iter() {
            match connect_one(*addr, budget) {
                Ok(stream) => {
                    if details.config.no_delay() {
                        stream.set_nodelay(true)?;
                    }
                    let stream = Arc::new(stream);
                    (details.register_shutdown)(Arc::downgrade(&stream) as _)?;
                    let config = details.config;
                    let buffers = LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size());
                    return Ok(Some(Either::B(TcpTransport { stream, buffers, read_armed: None, write_armed: None })));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(Error::HostNotFound))
    }
}

fn connect_one(addr: SocketAddr, budget: Option<Duration>) -> Result<TcpStream, Error> {
    let result = match budget {
        Some(t) => TcpStream::connect_timeout(&addr, t),
        None => TcpStream::connect(addr),
    };
    result.map_err(|e| match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout(Timeout::Connect),
        _ => Error::Io(e),
    })
}

pub struct TcpTransport {
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    read_armed: Option<Duration>,
    write_armed: Option<Duration>,
}

impl std::fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport").field("peer", &self.stream.peer_addr().ok()).finish()
    }
}

/// Sets a socket timeout unless the armed one is already within tolerance of `wanted`.
fn arm(
    armed: &mut Option<Duration>,
    wanted: Option<Duration>,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    let close_enough = match (*armed, wanted) {
        (Some(a), Some(w)) => a.abs_diff(w) <= tolerance(w),
        (a, w) => a == w,
    };
    if !close_enough {
        set(wanted)?;
        *armed = wanted;
    }
    Ok(())
}

/// The remaining budget, or the timeout error when it is spent.
fn remaining(timeout: NextTimeout) -> Result<Option<Duration>, Error> {
    if timeout.after.is_zero() {
        return Err(Error::Timeout(timeout.reason));
    }
    Ok(timeout.not_zero().map(|d| *d))
}

fn io_error(e: io::Error, reason: Timeout) -> Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout(reason),
        _ => Error::Io(e),
    }
}

impl Transport for TcpTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let timeout = timeout.for_write();
        let wanted = remaining(timeout)?;
        let stream = &*self.stream;
        arm(&mut self.write_armed, wanted, |t| stream.set_write_timeout(t))?;
        let output = &self.buffers.output()[..amount];
        (&*self.stream).write_all(output).map_err(|e| io_error(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let timeout = timeout.for_read();
        let wanted = remaining(timeout)?;
        let stream = &*self.stream;
        arm(&mut self.read_armed, wanted, |t| stream.set_read_timeout(t))?;
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&*self.stream).read(input) {
                // A signal interrupted the read; Linux does not restart it with SO_RCVTIMEO.
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other.map_err(|e| io_error(e, timeout.reason))?,
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    /// Open means the peer has neither closed nor sent anything unasked: one non-blocking peek.
    fn is_open(&mut self) -> bool {
        let mut byte = 0u8;
        // SAFETY: a valid socket descriptor owned by self.stream and a 1-byte buffer.
        let n = unsafe {
            libc::recv(self.stream.as_raw_fd(), (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT)
        };
        n < 0 && matches!(io::Error::last_os_error().kind(), io::ErrorKind::WouldBlock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_rearmed_only_beyond_the_tolerance() {
        let mut armed = None;
        let mut sets = 0;
        let mut set = |_: Option<Duration>| {
            sets += 1;
            Ok(())
        };
        arm(&mut armed, Some(Duration::from_secs(60)), &mut set).unwrap();
        arm(&mut armed, Some(Duration::from_millis(59_990)), &mut set).unwrap();
        arm(&mut armed, Some(Duration::from_millis(59_950)), &mut set).unwrap();
        assert_eq!(armed, Some(Duration::from_secs(60)));
        arm(&mut armed, Some(Duration::from_millis(59_800)), &mut set).unwrap();
        assert_eq!(armed, Some(Duration::from_millis(59_800)));
        arm(&mut armed, Some(Duration::from_millis(300)), &mut set).unwrap();
        arm(&mut armed, Some(Duration::from_millis(290)), &mut set).unwrap();
        assert_eq!(armed, Some(Duration::from_millis(300)));
        arm(&mut armed, Some(Duration::from_millis(280)), &mut set).unwrap();
        arm(&mut armed, None, &mut set).unwrap();
        assert_eq!(sets, 4 + 1);
    }

    #[test]
    fn a_closed_peer_is_not_open() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let mut t = TcpTransport {
            stream: Arc::new(stream),
            buffers: LazyBuffers::new(64, 64),
            read_armed: None,
            write_armed: None,
        };
        assert!(t.is_open());
        (&server).write_all(b"x").unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert!(!t.is_open(), "unasked bytes mean the connection cannot be reused");
        drop(server);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!t.is_open());
    }
}
