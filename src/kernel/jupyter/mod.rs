//! Jupyter's messaging protocol 5.3: the connection file, signed multipart messages, the five
//! sockets and where each message goes. It knows nothing of memsim: content is JSON in and out.

pub mod client;
pub mod sockets;

use std::collections::{HashSet, VecDeque};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::diag::kernel::KernelError;
use sockets::{Dest, Listeners, Outbox};
pub use sockets::{Frames, Inbox};

/// The separator between routing ids and the signed parts of a message.
pub const DELIMITER: &[u8] = b"<IDS|MSG>";
pub const PROTOCOL_VERSION: &str = "5.3";

/// What Jupyter writes to the connection file it hands a kernel.
#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInfo {
    #[serde(default = "default_ip")]
    pub ip: String,
    #[serde(default = "default_transport")]
    pub transport: String,
    pub shell_port: u16,
    pub iopub_port: u16,
    pub stdin_port: u16,
    pub control_port: u16,
    pub hb_port: u16,
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_ip() -> String {
    "127.0.0.1".into()
}
fn default_transport() -> String {
    "tcp".into()
}
fn default_scheme() -> String {
    "hmac-sha256".into()
}

impl ConnectionInfo {
    /// Reads and checks a connection file: only TCP and HMAC-SHA256 are spoken.
    pub fn read(path: &Path) -> Result<ConnectionInfo, KernelError> {
        let text = std::fs::read_to_string(path).map_err(|e| KernelError::ConnectionFile {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        let info: ConnectionInfo =
            serde_json::from_str(&text).map_err(|e| KernelError::ConnectionJson {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        if info.signature_scheme != "hmac-sha256" {
            return Err(KernelError::SignatureScheme {
                scheme: info.signature_scheme,
            });
        }
        if info.transport != "tcp" {
            return Err(KernelError::Transport {
                transport: info.transport,
            });
        }
        Ok(info)
    }
}

/// Signs and checks messages with the connection file's key. An empty key means no signing,
/// as Jupyter defines it.
#[derive(Clone)]
pub struct Signer {
    mac: Option<Hmac<Sha256>>,
}

impl Signer {
    pub fn new(key: &str) -> Signer {
        let mac = (!key.is_empty())
            .then(|| Hmac::<Sha256>::new_from_slice(key.as_bytes()).ok())
            .flatten();
        Signer { mac }
    }

    fn mac(&self, parts: &[&[u8]]) -> Option<Hmac<Sha256>> {
        let mut m = self.mac.clone()?;
        for p in parts {
            m.update(p);
        }
        Some(m)
    }

    /// Whether messages are signed at all (the key is not empty).
    pub fn signs(&self) -> bool {
        self.mac.is_some()
    }

    /// The hex signature of the four signed parts.
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        match self.mac(parts) {
            Some(m) => hex(&m.finalize().into_bytes()),
            None => String::new(),
        }
    }

    /// Whether `signature` (hex) signs `parts`; compared in constant time.
    pub fn verify(&self, signature: &[u8], parts: &[&[u8]]) -> bool {
        let Some(m) = self.mac(parts) else {
            return true;
        };
        match unhex(signature) {
            Some(sig) => m.verify_slice(&sig).is_ok(),
            None => false,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &[u8]) -> Option<Vec<u8>> {
    // `from_str_radix` alone would take `+f` for `0f`: one signature, one spelling.
    if !s.len().is_multiple_of(2) || !s.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    s.chunks(2)
        .map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
        .collect()
}

/// One Jupyter message, with the routing ids it came with.
#[derive(Debug, Clone)]
pub struct Message {
    pub ids: Frames,
    pub header: Value,
    pub parent_header: Value,
    pub metadata: Value,
    pub content: Value,
    pub buffers: Frames,
}

impl Message {
    pub fn msg_type(&self) -> &str {
        self.header["msg_type"].as_str().unwrap_or("")
    }

    /// A new message answering (or caused by) `parent`.
    pub fn new(session: &str, msg_type: &str, parent: Option<&Message>, content: Value) -> Self {
        Message {
            ids: Vec::new(),
            header: header(session, msg_type),
            parent_header: parent.map_or_else(|| json!({}), |p| p.header.clone()),
            metadata: json!({}),
            content,
            buffers: Vec::new(),
        }
    }

    /// Splits and checks a multipart message: routing ids, delimiter, signature, the four JSON
    /// parts, buffers.
    pub fn decode(mut frames: Frames, signer: &Signer) -> Result<Message, String> {
        let at = frames
            .iter()
            .position(|f| f == DELIMITER)
            .ok_or("no <IDS|MSG> delimiter")?;
        if frames.len() < at + 6 {
            return Err(format!(
                "{} parts after the delimiter, 5 needed",
                frames.len() - at - 1
            ));
        }
        let buffers = frames.split_off(at + 6);
        let parts: Vec<&[u8]> = frames[at + 2..at + 6].iter().map(Vec::as_slice).collect();
        if !signer.verify(&frames[at + 1], &parts) {
            return Err("bad or missing signature".into());
        }
        let parse = |i: usize, what: &str| -> Result<Value, String> {
            let v: Value = serde_json::from_slice(&frames[at + 2 + i])
                .map_err(|e| format!("the {what} is not JSON: {e}"))?;
            if v.is_object() {
                Ok(v)
            } else {
                Err(format!("the {what} is not a JSON object"))
            }
        };
        let header = parse(0, "header")?;
        if !header["msg_type"].is_string() {
            return Err("the header has no msg_type".into());
        }
        Ok(Message {
            header,
            parent_header: parse(1, "parent header")?,
            metadata: parse(2, "metadata")?,
            content: parse(3, "content")?,
            ids: frames[..at].to_vec(),
            buffers,
        })
    }

    /// The signed multipart form, behind `ids` (the routing ids or the iopub topic).
    pub fn encode(&self, signer: &Signer) -> Frames {
        let parts = [
            self.header.to_string().into_bytes(),
            self.parent_header.to_string().into_bytes(),
            self.metadata.to_string().into_bytes(),
            self.content.to_string().into_bytes(),
        ];
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        let sig = signer.sign(&refs);
        let mut frames = self.ids.clone();
        frames.push(DELIMITER.to_vec());
        frames.push(sig.into_bytes());
        frames.extend(parts);
        frames.extend(self.buffers.iter().cloned());
        frames
    }
}

fn header(session: &str, msg_type: &str) -> Value {
    json!({
        "msg_id": new_id(),
        "session": session,
        "username": "memsim",
        "date": now_iso8601(),
        "msg_type": msg_type,
        "version": PROTOCOL_VERSION,
    })
}

/// A random-enough UUID (version 4 layout) from the standard library's hasher seeds, a clock
/// and a counter: message ids must only be unique.
pub fn new_id() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut words = [0u64; 2];
    for (i, w) in words.iter_mut().enumerate() {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(n);
        h.write_u64(nanos);
        h.write_usize(i);
        h.write_u32(std::process::id());
        *w = h.finish();
    }
    let b: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    let x = hex(&b);
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        &x[0..8],
        &x[8..12],
        &x[13..16],
        8 | (b[8] & 3),
        &x[17..20],
        &x[20..32]
    )
}

/// The current UTC time as ISO 8601 with microseconds, as Jupyter headers carry it.
pub fn now_iso8601() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// Which socket a request came on; replies go back on the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Shell,
    Control,
}

/// The kernel's end of the five sockets.
#[derive(Clone)]
pub struct Transport {
    out: Outbox,
    signer: Signer,
    session: Arc<str>,
    seen: Arc<Mutex<Seen>>,
}

/// How many signatures are remembered: as many as jupyter_client's sessions remember.
const SEEN: usize = 1 << 16;

/// The signatures of the messages received lately. A signed message arriving a second time
/// is a replay (the signature covers its unique id and date), which Jupyter's own sessions
/// refuse; so does this kernel.
#[derive(Default)]
struct Seen {
    set: HashSet<Vec<u8>>,
    order: VecDeque<Vec<u8>>,
}

impl Seen {
    /// Records `sig`; false if it was already there.
    fn first_time(&mut self, sig: Vec<u8>) -> bool {
        if self.set.contains(&sig) {
            return false;
        }
        if self.order.len() == SEEN {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.order.push_back(sig.clone());
        self.set.insert(sig);
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The signature frame of a multipart message, if it has a delimiter.
fn signature(frames: &[Vec<u8>]) -> Option<&[u8]> {
    let at = frames.iter().position(|f| f == DELIMITER)?;
    frames.get(at + 1).map(Vec::as_slice)
}

impl Transport {
    /// Binds the five sockets of `info` and starts serving them.
    pub fn bind(info: &ConnectionInfo) -> Result<(Transport, Inbox), KernelError> {
        let listen = |channel: &'static str, port: u16| {
            let addr = format!("{}:{port}", info.ip);
            TcpListener::bind(&addr).map_err(|e| KernelError::Bind {
                channel,
                addr,
                reason: e.to_string(),
            })
        };
        let listeners = Listeners {
            shell: listen("shell", info.shell_port)?,
            control: listen("control", info.control_port)?,
            stdin: listen("stdin", info.stdin_port)?,
            iopub: listen("iopub", info.iopub_port)?,
            heartbeat: listen("heartbeat", info.hb_port)?,
        };
        let signer = Signer::new(&info.key);
        let session: Arc<str> = new_id().into();
        let welcome: sockets::Welcome = {
            let signer = signer.clone();
            let session = session.clone();
            Box::new(move |topic: &[u8]| {
                let mut m = Message::new(
                    &session,
                    "iopub_welcome",
                    None,
                    json!({ "subscription": String::from_utf8_lossy(topic) }),
                );
                m.ids = vec![topic.to_vec()];
                m.encode(&signer)
            })
        };
        let (out, inbox) = sockets::start(listeners, welcome).map_err(|e| KernelError::Bind {
            channel: "the kernel's sockets",
            addr: info.ip.clone(),
            reason: e.to_string(),
        })?;
        Ok((
            Transport {
                out,
                signer,
                session,
                seen: Arc::default(),
            },
            inbox,
        ))
    }

    /// Checks an incoming message; a bad one, or one already received, is logged to stderr
    /// and dropped.
    pub fn decode(&self, channel: Channel, frames: Frames) -> Option<Message> {
        let signature = signature(&frames).map(<[u8]>::to_vec);
        let checked = Message::decode(frames, &self.signer).and_then(|m| {
            let replayed = match signature {
                Some(sig) if self.signer.signs() => !lock(&self.seen).first_time(sig),
                _ => false,
            };
            if replayed {
                Err("replayed: its signature was seen before".to_string())
            } else {
                Ok(m)
            }
        });
        match checked {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("memsim kernel: dropped a {channel:?} message: {e}");
                None
            }
        }
    }

    /// Sends `msg_type` with `content` back to whoever sent `parent`.
    pub fn reply(&self, channel: Channel, parent: &Message, msg_type: &str, content: Value) {
        let mut m = Message::new(&self.session, msg_type, Some(parent), content);
        m.ids = parent.ids.clone();
        let dest = match channel {
            Channel::Shell => Dest::Shell,
            Channel::Control => Dest::Control,
        };
        self.out.send(dest, m.encode(&self.signer));
    }

    /// Waits until everything sent so far has left: before the process ends.
    pub fn flush(&self) {
        self.out.flush();
    }

    /// Broadcasts `msg_type` on iopub, as caused by `parent`.
    pub fn publish(&self, parent: Option<&Message>, msg_type: &str, content: Value) {
        let mut m = Message::new(&self.session, msg_type, parent, content);
        m.ids = vec![format!("kernel.{}.{msg_type}", self.session).into_bytes()];
        self.out.send(Dest::Iopub, m.encode(&self.signer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_has_one_spelling() {
        let parts: [&[u8]; 4] = [b"{}", b"{}", b"{}", b"{}"];
        // A key whose signature has a byte below 0x10, written `0x` in hex.
        let (s, good, i) = (0..64)
            .find_map(|k| {
                let s = Signer::new(&format!("key{k}"));
                let good = s.sign(&parts);
                let i = good.as_bytes().chunks(2).position(|c| c[0] == b'0')?;
                Some((s, good, i))
            })
            .expect("some key signs with a leading zero digit");
        assert!(s.verify(good.as_bytes(), &parts));
        let mut odd = good.into_bytes();
        odd[2 * i] = b'+';
        assert!(!s.verify(&odd, &parts));
        assert!(!s.verify(b"zz", &parts));
    }
}
