//! The front end's side of the sockets, blocking, on the same `zeromq` crate: what the tests and
//! the round-trip benchmark use to talk to a kernel as Jupyter would.

use std::io;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::Runtime;
use zeromq::util::PeerIdentity;
use zeromq::{
    DealerSocket, ReqSocket, Socket, SocketOptions, SocketRecv, SocketSend, SubSocket, ZmqMessage,
};

use super::sockets::Frames;

/// One runtime for every client of the process, with a worker of its own so that sockets keep
/// reading while the caller does something else.
fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for the test client")
    })
}

fn err(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

enum Kind {
    Dealer(DealerSocket),
    Sub(SubSocket),
    Req(ReqSocket),
}

/// A connected DEALER, SUB or REQ socket.
pub struct Conn(Kind);

impl Conn {
    /// Connects to `127.0.0.1:port` as a `socket_type` socket (`DEALER`, `SUB`, `REQ`); a
    /// DEALER's routing identity is `identity` when it is not empty.
    pub fn connect(port: u16, socket_type: &str, identity: &[u8]) -> io::Result<Conn> {
        let mut options = SocketOptions::default();
        if !identity.is_empty() {
            let id = PeerIdentity::try_from(identity.to_vec()).map_err(err)?;
            options.peer_identity(id);
        }
        let endpoint = format!("tcp://127.0.0.1:{port}");
        runtime().block_on(async {
            let mut kind = match socket_type {
                "DEALER" => Kind::Dealer(DealerSocket::with_options(options)),
                "SUB" => Kind::Sub(SubSocket::with_options(options)),
                "REQ" => Kind::Req(ReqSocket::with_options(options)),
                other => return Err(err(format!("no {other} sockets here"))),
            };
            let connected = match &mut kind {
                Kind::Dealer(s) => s.connect(&endpoint).await,
                Kind::Sub(s) => s.connect(&endpoint).await,
                Kind::Req(s) => s.connect(&endpoint).await,
            };
            connected.map_err(err)?;
            Ok(Conn(kind))
        })
    }

    /// Subscribes a SUB socket to every topic.
    pub fn subscribe_all(&mut self) -> io::Result<()> {
        match &mut self.0 {
            Kind::Sub(s) => runtime().block_on(s.subscribe("")).map_err(err),
            _ => Err(err("only a SUB socket subscribes")),
        }
    }

    pub fn send(&mut self, frames: &[Vec<u8>]) -> io::Result<()> {
        let parts: Vec<Bytes> = frames.iter().map(|f| Bytes::from(f.clone())).collect();
        let m = ZmqMessage::try_from(parts).map_err(err)?;
        runtime()
            .block_on(async {
                match &mut self.0 {
                    Kind::Dealer(s) => s.send(m).await,
                    Kind::Req(s) => s.send(m).await,
                    Kind::Sub(_) => Err(zeromq::ZmqError::Other("a SUB socket only receives")),
                }
            })
            .map_err(err)
    }

    /// The next message; `None` on timeout.
    pub fn recv(&mut self, timeout: Duration) -> io::Result<Option<Frames>> {
        let got = runtime().block_on(async {
            let recv = async {
                match &mut self.0 {
                    Kind::Dealer(s) => s.recv().await,
                    Kind::Sub(s) => s.recv().await,
                    Kind::Req(s) => s.recv().await,
                }
            };
            tokio::time::timeout(timeout, recv).await
        });
        match got {
            Err(_elapsed) => Ok(None),
            Ok(Ok(m)) => Ok(Some(m.into_vec().into_iter().map(|b| b.to_vec()).collect())),
            Ok(Err(e)) => Err(err(e)),
        }
    }
}
