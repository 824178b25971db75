//! The kernel's five ZeroMQ sockets, on the pure-Rust `zeromq` crate: shell, control and stdin
//! are ROUTER sockets, iopub an XPUB (so that it sees subscriptions and can greet them), the
//! heartbeat a REP. One thread runs them all on a current-thread tokio runtime; plain channels
//! join it to the kernel's own threads, so that nothing async leaves this file.

use std::io;
use std::net::TcpListener;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use zeromq::{
    RepSocket, RouterRecvHalf, RouterSendHalf, RouterSocket, Socket, SocketRecv, SocketSend,
    XPubSocket, ZmqError, ZmqMessage,
};

/// A multipart message.
pub type Frames = Vec<Vec<u8>>;

/// Where an outgoing message goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    Shell,
    Control,
    Iopub,
}

/// The five listening sockets, bound by the caller so that a port in use is its error.
pub struct Listeners {
    pub shell: TcpListener,
    pub control: TcpListener,
    pub stdin: TcpListener,
    pub iopub: TcpListener,
    pub heartbeat: TcpListener,
}

/// Builds the message a new subscriber gets for its subscription (the XPUB welcome).
pub type Welcome = Box<dyn Fn(&[u8]) -> Frames + Send>;

/// The sending end: messages leave in the order they are handed over, whatever their socket,
/// so that a reply never overtakes the `busy` published before it.
#[derive(Clone)]
pub struct Outbox(UnboundedSender<Out>);

enum Out {
    Send(Dest, Frames),
    /// Answered once everything handed over before it is written to its socket.
    Flush(std_mpsc::Sender<()>),
}

/// How long an exiting kernel waits for its last messages to leave. Leaving takes
/// microseconds; the wait is long because on a loaded host the socket thread may not get a
/// CPU for a while, and a `shutdown_reply` left unsent makes the front end wait for nothing.
const FLUSH_WAIT: Duration = Duration::from_secs(10);

impl Outbox {
    pub fn send(&self, dest: Dest, frames: Frames) {
        // The socket thread only ends with the process.
        let _ = self.0.send(Out::Send(dest, frames));
    }

    /// Waits until every message handed over so far has been written: the last replies
    /// (`shutdown_reply`, `idle`) must leave before the process ends.
    pub fn flush(&self) {
        let (tx, rx) = std_mpsc::channel();
        if self.0.send(Out::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(FLUSH_WAIT);
        }
    }
}

/// Requests as they arrive, one queue per channel that takes requests.
pub struct Inbox {
    pub shell: std_mpsc::Receiver<Frames>,
    pub control: std_mpsc::Receiver<Frames>,
}

/// Starts serving the five sockets on a thread of their own.
pub fn start(l: Listeners, welcome: Welcome) -> io::Result<(Outbox, Inbox)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sockets = rt
        .block_on(bind(l))
        .map_err(|e| io::Error::other(e.to_string()))?;
    let (out_tx, out_rx) = unbounded_channel();
    let (shell_tx, shell_rx) = std_mpsc::channel();
    let (control_tx, control_rx) = std_mpsc::channel();
    std::thread::Builder::new()
        .name("jupyter sockets".into())
        .spawn(move || rt.block_on(serve(sockets, out_rx, shell_tx, control_tx, welcome)))?;
    Ok((
        Outbox(out_tx),
        Inbox {
            shell: shell_rx,
            control: control_rx,
        },
    ))
}

struct Sockets {
    shell: RouterSocket,
    control: RouterSocket,
    stdin: RouterSocket,
    iopub: XPubSocket,
    heartbeat: RepSocket,
}

async fn bind(l: Listeners) -> Result<Sockets, ZmqError> {
    let mut s = Sockets {
        shell: RouterSocket::new(),
        control: RouterSocket::new(),
        stdin: RouterSocket::new(),
        iopub: XPubSocket::new(),
        heartbeat: RepSocket::new(),
    };
    s.shell.bind_listener(l.shell).await?;
    s.control.bind_listener(l.control).await?;
    s.stdin.bind_listener(l.stdin).await?;
    s.iopub.bind_listener(l.iopub).await?;
    s.heartbeat.bind_listener(l.heartbeat).await?;
    Ok(s)
}

fn frames(m: ZmqMessage) -> Frames {
    m.into_vec().into_iter().map(|b| b.to_vec()).collect()
}

fn message(frames: Frames) -> Option<ZmqMessage> {
    let parts: Vec<Bytes> = frames.into_iter().map(Bytes::from).collect();
    ZmqMessage::try_from(parts).ok()
}

/// A peer that failed is already dropped by the crate; the pause keeps a socket whose every
/// receive fails from spinning.
const AFTER_ERROR: Duration = Duration::from_millis(10);

async fn serve(
    s: Sockets,
    mut out: UnboundedReceiver<Out>,
    shell_tx: std_mpsc::Sender<Frames>,
    control_tx: std_mpsc::Sender<Frames>,
    welcome: Welcome,
) {
    let (mut shell, shell_in) = s.shell.split();
    let (mut control, control_in) = s.control.split();
    tokio::spawn(forward(shell_in, shell_tx));
    tokio::spawn(forward(control_in, control_tx));
    // Nothing asks for input, but front ends expect the socket to be there.
    let (_stdin_out, stdin_in) = s.stdin.split();
    tokio::spawn(forward(stdin_in, std_mpsc::channel().0));
    tokio::spawn(echo(s.heartbeat));
    let mut iopub = s.iopub;
    loop {
        tokio::select! {
            next = out.recv() => match next {
                None => break,
                Some(Out::Send(dest, frames)) => {
                    send(dest, frames, &mut shell, &mut control, &mut iopub).await;
                }
                Some(Out::Flush(done)) => {
                    drain().await;
                    let _ = done.send(());
                }
            },
            sub = iopub.recv() => match sub {
                // `\x01topic` subscribes; the welcome tells the front end that from now on
                // it sees what is published.
                Ok(m) => {
                    let first = m.get(0).map(|f| f.to_vec()).unwrap_or_default();
                    if let Some((1, topic)) = first.split_first() {
                        send(Dest::Iopub, welcome(topic), &mut shell, &mut control, &mut iopub)
                            .await;
                    }
                }
                Err(_) => tokio::time::sleep(AFTER_ERROR).await,
            },
        }
    }
}

async fn send(
    dest: Dest,
    frames: Frames,
    shell: &mut RouterSendHalf,
    control: &mut RouterSendHalf,
    iopub: &mut XPubSocket,
) {
    let Some(m) = message(frames) else { return };
    let sent = match dest {
        Dest::Shell => shell.send(m).await,
        Dest::Control => control.send(m).await,
        Dest::Iopub => iopub.send(m).await,
    };
    if let Err(e) = sent {
        eprintln!("memsim kernel: could not send on {dest:?}: {e}");
    }
}

/// Lets the crate's writer tasks write what `send` queued. A `send` only hands the message to
/// a per-peer queue that a task of its own writes to the connection, on this same thread: the
/// process must not end until those tasks ran, or the last `shutdown_reply` is lost. They are
/// ready to run, so yielding runs them; the short sleep parks the thread on the I/O driver once,
/// for a write that had to wait for the connection to accept it.
async fn drain() {
    for _ in 0..DRAIN_YIELDS {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(DRAIN_PAUSE).await;
}

const DRAIN_YIELDS: usize = 16;
const DRAIN_PAUSE: Duration = Duration::from_millis(20);

/// Hands what a ROUTER receives (behind its sender's routing id) to the kernel.
async fn forward(mut socket: RouterRecvHalf, tx: std_mpsc::Sender<Frames>) {
    loop {
        match socket.recv().await {
            Ok(m) => {
                if tx.send(frames(m)).is_err() {
                    // Nobody listens (stdin): keep reading so that peers are never blocked.
                    continue;
                }
            }
            Err(_) => tokio::time::sleep(AFTER_ERROR).await,
        }
    }
}

/// The heartbeat: every message comes straight back to its sender.
async fn echo(mut socket: RepSocket) {
    loop {
        match socket.recv().await {
            Ok(m) => {
                let _ = socket.send(m).await;
            }
            Err(_) => tokio::time::sleep(AFTER_ERROR).await,
        }
    }
}
