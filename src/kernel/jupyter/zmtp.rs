//! ZeroMQ's wire protocol (ZMTP 3.0 with the NULL mechanism) over TCP, as far as Jupyter needs
//! it: ROUTER sockets for shell, control and stdin, a PUB socket for iopub, an echo socket for
//! the heartbeat, and the client side of each for tests. Plain threads and blocking I/O: a
//! kernel has a handful of peers, all on the same machine.

use std::collections::HashMap;
use std::io::{self, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// A multipart message.
pub type Frames = Vec<Vec<u8>>;

/// Frames larger than this end the connection: no notebook cell is a gigabyte, and a garbage
/// length must not make the kernel allocate one.
const MAX_FRAME: u64 = 512 << 20;

const MORE: u8 = 0x01;
const LONG: u8 = 0x02;
const COMMAND: u8 = 0x04;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// What the other end said about itself in its READY command.
#[derive(Debug, Clone, Default)]
pub struct Peer {
    pub socket_type: String,
    pub identity: Vec<u8>,
}

/// One thing read from a connection.
#[derive(Debug)]
pub enum Incoming {
    Message(Frames),
    Command { name: String, body: Vec<u8> },
}

fn greeting() -> [u8; 64] {
    let mut g = [0u8; 64];
    g[0] = 0xFF;
    g[9] = 0x7F;
    g[10] = 3;
    g[11] = 0;
    g[12..16].copy_from_slice(b"NULL");
    g
}

/// Exchanges greetings and READY commands; both ends do the same, whoever connected.
pub fn handshake(stream: &mut TcpStream, socket_type: &str, identity: &[u8]) -> io::Result<Peer> {
    stream.write_all(&greeting())?;
    let mut theirs = [0u8; 64];
    stream.read_exact(&mut theirs)?;
    if theirs[0] != 0xFF || theirs[9] & 1 != 1 {
        return Err(bad("not a ZeroMQ peer (bad greeting signature)"));
    }
    if theirs[10] < 3 {
        return Err(bad(format!("ZMTP version {} is too old", theirs[10])));
    }
    if &theirs[12..16] != b"NULL" || theirs[16..32].iter().any(|&b| b != 0) {
        return Err(bad("only the NULL security mechanism is supported"));
    }
    let mut body = Vec::new();
    body.push(5);
    body.extend_from_slice(b"READY");
    property(&mut body, "Socket-Type", socket_type.as_bytes());
    if matches!(socket_type, "ROUTER" | "DEALER" | "REQ" | "REP") {
        property(&mut body, "Identity", identity);
    }
    write_frame(stream, COMMAND, &body)?;
    stream.flush()?;
    match read(stream)? {
        Incoming::Command { name, body } if name == "READY" => parse_ready(&body),
        Incoming::Command { name, .. } => Err(bad(format!("expected READY, got {name}"))),
        Incoming::Message(_) => Err(bad("expected READY, got a message")),
    }
}

fn property(body: &mut Vec<u8>, name: &str, value: &[u8]) {
    body.push(name.len() as u8);
    body.extend_from_slice(name.as_bytes());
    body.extend_from_slice(&(value.len() as u32).to_be_bytes());
    body.extend_from_slice(value);
}

fn parse_ready(mut body: &[u8]) -> io::Result<Peer> {
    let mut peer = Peer::default();
    let short = || bad("truncated READY command");
    while !body.is_empty() {
        let n = body[0] as usize;
        let name = body.get(1..1 + n).ok_or_else(short)?;
        let len = body.get(1 + n..5 + n).ok_or_else(short)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let value = body.get(5 + n..5 + n + len).ok_or_else(short)?;
        if name.eq_ignore_ascii_case(b"Socket-Type") {
            peer.socket_type = String::from_utf8_lossy(value).into_owned();
        } else if name.eq_ignore_ascii_case(b"Identity") {
            peer.identity = value.to_vec();
        }
        body = &body[5 + n + len..];
    }
    Ok(peer)
}

fn write_frame(w: &mut impl Write, flags: u8, body: &[u8]) -> io::Result<()> {
    if body.len() > 255 {
        w.write_all(&[flags | LONG])?;
        w.write_all(&(body.len() as u64).to_be_bytes())?;
    } else {
        w.write_all(&[flags, body.len() as u8])?;
    }
    w.write_all(body)
}

/// Writes a whole message in one system call, so that writers on other threads never
/// interleave their frames with it.
pub fn write_message(w: &mut impl Write, frames: &[Vec<u8>]) -> io::Result<()> {
    let mut buf = Vec::with_capacity(frames.iter().map(|f| f.len() + 9).sum());
    for (i, f) in frames.iter().enumerate() {
        let more = if i + 1 < frames.len() { MORE } else { 0 };
        write_frame(&mut buf, more, f)?;
    }
    w.write_all(&buf)?;
    w.flush()
}

/// Reads one message or command.
pub fn read(r: &mut impl Read) -> io::Result<Incoming> {
    let mut frames = Vec::new();
    loop {
        let mut flags = [0u8; 1];
        r.read_exact(&mut flags)?;
        let flags = flags[0];
        if flags & !(MORE | LONG | COMMAND) != 0 {
            return Err(bad(format!("bad frame flags {flags:#04x}")));
        }
        let len = if flags & LONG != 0 {
            let mut b = [0u8; 8];
            r.read_exact(&mut b)?;
            u64::from_be_bytes(b)
        } else {
            let mut b = [0u8; 1];
            r.read_exact(&mut b)?;
            u64::from(b[0])
        };
        if len > MAX_FRAME {
            return Err(bad(format!("a frame of {len} bytes is too large")));
        }
        let mut body = vec![0u8; len as usize];
        r.read_exact(&mut body)?;
        if flags & COMMAND != 0 {
            let n = *body.first().ok_or_else(|| bad("empty command"))? as usize;
            let name = body.get(1..1 + n).ok_or_else(|| bad("truncated command"))?;
            let name = String::from_utf8_lossy(name).into_owned();
            let body = body[1 + n..].to_vec();
            return Ok(Incoming::Command { name, body });
        }
        frames.push(body);
        if flags & MORE == 0 {
            return Ok(Incoming::Message(frames));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accepts connections on its own thread and hands each to `serve` on a thread of its own.
fn accept_loop(
    listener: TcpListener,
    name: &'static str,
    serve: impl Fn(TcpStream) + Send + Sync + 'static,
) {
    let serve = Arc::new(serve);
    let spawned = std::thread::Builder::new()
        .name(format!("{name} accept"))
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let _ = conn.set_nodelay(true);
                let serve = serve.clone();
                let _ = std::thread::Builder::new()
                    .name(name.to_string())
                    .spawn(move || serve(conn));
            }
        });
    if let Err(e) = spawned {
        eprintln!("memsim kernel: cannot start the {name} socket: {e}");
    }
}

/// A ROUTER socket: each message arrives with its sender's routing id as first frame, and a
/// message sent goes to the peer its first frame names.
#[derive(Clone)]
pub struct Router {
    peers: Arc<Mutex<HashMap<Vec<u8>, TcpStream>>>,
}

impl Router {
    /// Serves `listener`; what peers send arrives on the returned receiver.
    pub fn bind(listener: TcpListener, name: &'static str) -> (Router, Receiver<Frames>) {
        let (tx, rx) = mpsc::channel();
        let router = Router {
            peers: Arc::default(),
        };
        let peers = router.peers.clone();
        let next = Arc::new(AtomicU32::new(1));
        accept_loop(listener, name, move |conn| {
            router_conn(conn, name, &peers, &next, &tx)
        });
        (router, rx)
    }

    /// Sends `frames[1..]` to the peer named by `frames[0]`; a peer that is gone is forgotten.
    pub fn send(&self, frames: &[Vec<u8>]) -> io::Result<()> {
        let Some((id, rest)) = frames.split_first() else {
            return Ok(());
        };
        let mut peers = lock(&self.peers);
        let Some(stream) = peers.get_mut(id) else {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "the peer is gone",
            ));
        };
        let r = write_message(stream, rest);
        if r.is_err() {
            peers.remove(id);
        }
        r
    }
}

fn router_conn(
    mut conn: TcpStream,
    name: &str,
    peers: &Mutex<HashMap<Vec<u8>, TcpStream>>,
    next: &AtomicU32,
    tx: &Sender<Frames>,
) {
    let peer = match handshake(&mut conn, "ROUTER", b"") {
        Ok(p) => p,
        Err(e) => return eprintln!("memsim kernel: {name}: dropped a connection: {e}"),
    };
    // As libzmq does: the peer's own identity if it gave one that is free, else a fresh one
    // starting with a zero byte (which peers may not use).
    let id = {
        let map = lock(peers);
        if !peer.identity.is_empty() && peer.identity[0] != 0 && !map.contains_key(&peer.identity) {
            peer.identity.clone()
        } else {
            let mut id = vec![0u8];
            id.extend_from_slice(&next.fetch_add(1, Ordering::Relaxed).to_be_bytes());
            id
        }
    };
    let Ok(writer) = conn.try_clone() else { return };
    lock(peers).insert(id.clone(), writer);
    let mut reader = BufReader::new(conn);
    loop {
        match read(&mut reader) {
            Ok(Incoming::Message(mut frames)) => {
                frames.insert(0, id.clone());
                if tx.send(frames).is_err() {
                    break;
                }
            }
            Ok(Incoming::Command { .. }) => {}
            Err(e) => {
                if e.kind() != io::ErrorKind::UnexpectedEof {
                    eprintln!("memsim kernel: {name}: dropped a connection: {e}");
                }
                break;
            }
        }
    }
    lock(peers).remove(&id);
}

/// Builds the message a new subscriber gets for its subscription (the XPUB welcome).
pub type Welcome = Arc<dyn Fn(&[u8]) -> Frames + Send + Sync>;

struct Subscriber {
    stream: TcpStream,
    topics: Vec<Vec<u8>>,
}

/// A PUB socket: each message goes to every subscriber with a topic its first frame starts
/// with; a new subscription is answered with a welcome message.
#[derive(Clone)]
pub struct Publisher {
    subs: Arc<Mutex<HashMap<u64, Subscriber>>>,
}

impl Publisher {
    pub fn bind(listener: TcpListener, welcome: Welcome) -> Publisher {
        let publisher = Publisher {
            subs: Arc::default(),
        };
        let subs = publisher.subs.clone();
        let next = Arc::new(AtomicU64::new(0));
        accept_loop(listener, "iopub", move |conn| {
            let id = next.fetch_add(1, Ordering::Relaxed);
            pub_conn(conn, id, &subs, &welcome)
        });
        publisher
    }

    pub fn publish(&self, frames: &[Vec<u8>]) {
        let topic = frames.first().map(Vec::as_slice).unwrap_or_default();
        let mut subs = lock(&self.subs);
        let mut gone = Vec::new();
        for (id, s) in subs.iter_mut() {
            if s.topics.iter().any(|t| topic.starts_with(t))
                && write_message(&mut s.stream, frames).is_err()
            {
                gone.push(*id);
            }
        }
        for id in gone {
            subs.remove(&id);
        }
    }
}

fn pub_conn(
    mut conn: TcpStream,
    id: u64,
    subs: &Mutex<HashMap<u64, Subscriber>>,
    welcome: &Welcome,
) {
    if let Err(e) = handshake(&mut conn, "PUB", b"") {
        return eprintln!("memsim kernel: iopub: dropped a connection: {e}");
    }
    let Ok(writer) = conn.try_clone() else { return };
    lock(subs).insert(
        id,
        Subscriber {
            stream: writer,
            topics: Vec::new(),
        },
    );
    let mut reader = BufReader::new(conn);
    loop {
        // ZMTP 3.0 subscribes with a message `\x01topic`, 3.1 with a SUBSCRIBE command.
        let (subscribe, topic) = match read(&mut reader) {
            Ok(Incoming::Message(f)) => match f.first().and_then(|f| f.split_first()) {
                Some((1, t)) => (true, t.to_vec()),
                Some((0, t)) => (false, t.to_vec()),
                _ => continue,
            },
            Ok(Incoming::Command { name, body }) if name == "SUBSCRIBE" => (true, body),
            Ok(Incoming::Command { name, body }) if name == "CANCEL" => (false, body),
            Ok(Incoming::Command { .. }) => continue,
            Err(_) => break,
        };
        let mut map = lock(subs);
        let Some(s) = map.get_mut(&id) else { break };
        if subscribe {
            s.topics.push(topic.clone());
            let hello = welcome(&topic);
            if write_message(&mut s.stream, &hello).is_err() {
                break;
            }
        } else if let Some(i) = s.topics.iter().position(|t| *t == topic) {
            s.topics.remove(i);
        }
    }
    lock(subs).remove(&id);
}

/// The heartbeat: every message comes straight back to its sender.
pub fn echo(listener: TcpListener) {
    accept_loop(listener, "heartbeat", |mut conn| {
        if handshake(&mut conn, "REP", b"").is_err() {
            return;
        }
        let Ok(mut writer) = conn.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(conn);
        while let Ok(Incoming::Message(frames)) = read(&mut reader) {
            if write_message(&mut writer, &frames).is_err() {
                break;
            }
        }
    });
}

/// The client end of a connection (what a front end holds): for tests and benchmarks.
pub struct Conn {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
    pub peer: Peer,
}

impl Conn {
    /// Connects as a `socket_type` socket (`DEALER`, `SUB`, `REQ`) with a routing identity.
    pub fn connect(
        addr: impl ToSocketAddrs,
        socket_type: &str,
        identity: &[u8],
    ) -> io::Result<Conn> {
        let mut stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        let peer = handshake(&mut stream, socket_type, identity)?;
        Ok(Conn {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
            peer,
        })
    }

    /// Connects a SUB socket and subscribes to every topic.
    pub fn subscribe_all(addr: impl ToSocketAddrs) -> io::Result<Conn> {
        let mut c = Conn::connect(addr, "SUB", b"")?;
        c.send(&[vec![1]])?;
        Ok(c)
    }

    pub fn send(&mut self, frames: &[Vec<u8>]) -> io::Result<()> {
        write_message(&mut self.writer, frames)
    }

    /// Raw bytes, for tests that send garbage.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer.write_all(bytes)
    }

    /// The next message, skipping commands; `None` on timeout.
    pub fn recv(&mut self, timeout: Duration) -> io::Result<Option<Frames>> {
        self.reader.get_ref().set_read_timeout(Some(timeout))?;
        loop {
            match read(&mut self.reader) {
                Ok(Incoming::Message(f)) => return Ok(Some(f)),
                Ok(Incoming::Command { .. }) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    return Ok(None)
                }
                Err(e) => return Err(e),
            }
        }
    }
}
