//! A scripted HTTP/1.1 server on loopback for the unit tests of the request path: it records
//! every request (method, target, headers, body) and answers each with what the test's script
//! says for its number, keeping connections alive.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// One request as the server read it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Which connection (1-based, in accept order) carried it.
    pub connection: usize,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the server does with request number n (1-based).
pub enum Reply {
    /// Status line (e.g. "200 OK"), extra header lines, body: written in one write.
    Answer(&'static str, Vec<String>, Vec<u8>),
    /// The body in pieces, `pause` apart (Content-Length announced up front).
    Slowly(Vec<Vec<u8>>, Duration),
    /// Close the connection without answering.
    Close,
    /// Never answer (the connection is held until the test ends).
    Hang,
}

impl Reply {
    pub fn json(body: &str) -> Reply {
        Reply::Answer("200 OK", Vec::new(), body.as_bytes().to_vec())
    }

    pub fn status(status: &'static str) -> Reply {
        Reply::Answer(status, Vec::new(), Vec::new())
    }
}

pub struct Server {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serves until the test process ends.
    pub fn start(script: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (log, script) = (seen.clone(), Arc::new(script));
        thread::spawn(move || {
            for (i, stream) in listener.incoming().flatten().enumerate() {
                let (log, script) = (log.clone(), script.clone());
                thread::spawn(move || serve(stream, i + 1, &log, &*script));
            }
        });
        Server { addr, seen }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve(
    stream: TcpStream,
    connection: usize,
    log: &Mutex<Vec<Seen>>,
    script: &(dyn Fn(usize, &Seen) -> Reply + Sync),
) {
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    while let Some(request) = read_request(&mut reader, connection) {
        let n = {
            let mut log = log.lock().unwrap();
            log.push(request.clone());
            log.len()
        };
        match script(n, &request) {
            Reply::Answer(status, headers, body) => {
                let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len()).into_bytes();
                for h in headers {
                    out.extend_from_slice(format!("{h}\r\n").as_bytes());
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(&body);
                if writer.write_all(&out).is_err() {
                    return;
                }
            }
            Reply::Slowly(pieces, pause) => {
                let len: usize = pieces.iter().map(Vec::len).sum();
                if writer.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n").as_bytes()).is_err() {
                    return;
                }
                for piece in pieces {
                    thread::sleep(pause);
                    if writer.write_all(&piece).is_err() {
                        return;
                    }
                }
            }
            Reply::Close => return,
            Reply::Hang => {
                thread::sleep(Duration::from_secs(30));
                return;
            }
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>, connection: usize) -> Option<Seen> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok().filter(|&n| n > 0)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let len =
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).ok()?;
    Some(Seen { method, target, headers, body, connection })
}
