//! The Jupyter kernel through real sockets: a small front end that starts `memsim kernel` on a
//! temporary connection file and speaks protocol 5.3 to it, as Jupyter would.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use memsim::kernel::jupyter::client::Conn;
use memsim::kernel::jupyter::{Message, Signer};
use serde_json::{json, Value};

const KEY: &str = "a0436f6c-1916-498b-8eb9-e81ab9368e84";
const WAIT: Duration = Duration::from_secs(60);

/// A running kernel and a front end connected to all its sockets.
pub struct Front {
    child: Child,
    shell: Conn,
    control: Conn,
    iopub: Conn,
    hb: Conn,
    signer: Signer,
    ports: [u16; 5],
    file: PathBuf,
    _dir: TempDir,
}

/// A folder removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!(
            "memsim-kernel-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Five ports nobody listens on, never handed out twice in this process. They are taken below
/// the range the system draws outgoing connections' ports from, so that the tests' own client
/// sockets, opened side by side, cannot take one before its kernel binds it.
fn free_ports() -> [u16; 5] {
    use std::sync::atomic::{AtomicU16, Ordering};
    const FIRST: u16 = 20_000;
    const SPAN: u16 = 12_000;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let mut ports = [0u16; 5];
    let mut found = 0;
    for _ in 0..SPAN {
        let i = NEXT.fetch_add(1, Ordering::Relaxed) % SPAN;
        // Processes started side by side (this binary run twice at once) start far apart.
        let base = (std::process::id().wrapping_mul(2_654_435_761) % u32::from(SPAN)) as u16;
        let port = FIRST + (i + base) % SPAN;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            ports[found] = port;
            found += 1;
            if found == ports.len() {
                return ports;
            }
        }
    }
    panic!("no five free ports between {FIRST} and {}", FIRST + SPAN);
}

fn connection_json(ports: [u16; 5], key: &str, scheme: &str) -> String {
    json!({
        "ip": "127.0.0.1",
        "transport": "tcp",
        "shell_port": ports[0],
        "iopub_port": ports[1],
        "stdin_port": ports[2],
        "control_port": ports[3],
        "hb_port": ports[4],
        "key": key,
        "signature_scheme": scheme,
        "kernel_name": "mem",
    })
    .to_string()
}

/// Where a kernel started on `file` writes its stderr: read when it does not answer.
fn stderr_file(file: &std::path::Path) -> PathBuf {
    file.with_extension("stderr")
}

fn spawn(file: &PathBuf, env: &[(&str, &str)]) -> Child {
    let log = std::fs::File::create(stderr_file(file)).unwrap();
    Command::new(env!("CARGO_BIN_EXE_memsim"))
        .envs(env.iter().copied())
        .args(["kernel", "--connection-file"])
        .arg(file)
        // The tests' scratch files live in the temporary folder, outside the working folder.
        .env("MEMSIM_ROOT", std::env::temp_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Retries a connection while the kernel starts listening.
fn connect(port: u16, ty: &str, id: &[u8], file: &std::path::Path) -> Conn {
    let start = Instant::now();
    loop {
        match Conn::connect(port, ty, id) {
            Ok(c) => return c,
            Err(e) if start.elapsed() > WAIT => panic!(
                "cannot connect to port {port}: {e}; the kernel said: {:?}",
                std::fs::read_to_string(stderr_file(file)).unwrap_or_default()
            ),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// How a kernel just started on `ports` came up.
enum Started {
    Listening(Child),
    /// One of its ports was taken in the meantime (the kernel said `mem::kernel::bind`).
    PortTaken,
}

/// Starts a kernel on `file` and waits until it listens on every port. The ports were free
/// when chosen, but tests run side by side, and another test's outgoing connection may take one
/// before the kernel binds it: Jupyter's own race, which it answers by starting again.
fn start_kernel(file: &PathBuf, ports: [u16; 5], env: &[(&str, &str)]) -> Started {
    let mut child = spawn(file, env);
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let said = std::fs::read_to_string(stderr_file(file)).unwrap_or_default();
            if said.contains("mem::kernel::bind") {
                return Started::PortTaken;
            }
            panic!("the kernel ended at start ({status}): {said}");
        }
        // The heartbeat is the last port the kernel binds.
        if std::net::TcpStream::connect(("127.0.0.1", ports[4])).is_ok() {
            return Started::Listening(child);
        }
        assert!(start.elapsed() < WAIT, "the kernel did not start listening");
        std::thread::sleep(Duration::from_millis(10));
    }
}

impl Front {
    pub fn start() -> Front {
        Front::start_with(&[])
    }

    /// [`Front::start`], with more of the kernel's environment.
    pub fn start_with(env: &[(&str, &str)]) -> Front {
        let dir = TempDir::new("front");
        let file = dir.0.join("kernel.json");
        for _ in 0..10 {
            let ports = free_ports();
            std::fs::write(&file, connection_json(ports, KEY, "hmac-sha256")).unwrap();
            if let Started::Listening(child) = start_kernel(&file, ports, env) {
                return Front::attach(child, ports, file, dir);
            }
        }
        panic!("ten sets of free ports were each taken before the kernel could bind them");
    }

    /// Starts the kernel again on the same connection file, as Jupyter does on a restart.
    /// When another test took one of its ports meanwhile, Jupyter's answer is new ports.
    fn restart(mut ports: [u16; 5], file: PathBuf, dir: TempDir) -> Front {
        for attempt in 0..10 {
            if attempt >= 3 {
                ports = free_ports();
                std::fs::write(&file, connection_json(ports, KEY, "hmac-sha256")).unwrap();
            }
            if let Started::Listening(child) = start_kernel(&file, ports, &[]) {
                return Front::attach(child, ports, file, dir);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("every set of ports was taken before the kernel could bind it");
    }

    fn attach(child: Child, ports: [u16; 5], file: PathBuf, dir: TempDir) -> Front {
        let shell = connect(ports[0], "DEALER", b"front-shell", &file);
        let mut iopub = connect(ports[1], "SUB", b"", &file);
        iopub.subscribe_all().unwrap();
        let control = connect(ports[3], "DEALER", b"front-control", &file);
        let hb = connect(ports[4], "REQ", b"", &file);
        let mut f = Front {
            child,
            shell,
            control,
            iopub,
            hb,
            signer: Signer::new(KEY),
            ports,
            file,
            _dir: dir,
        };
        // Messages published before the subscription arrived are lost: wait for the welcome.
        let welcome = f.next_iopub().expect("no iopub welcome");
        assert_eq!(welcome.msg_type(), "iopub_welcome");
        assert_eq!(welcome.content["subscription"], "");
        f
    }

    fn message(&self, msg_type: &str, content: Value) -> Message {
        Message::new("front", msg_type, None, content)
    }

    /// Sends a request on shell (or control); returns its message id.
    pub fn send(&mut self, control: bool, msg_type: &str, content: Value) -> String {
        let m = self.message(msg_type, content);
        let id = m.header["msg_id"].as_str().unwrap().to_string();
        let frames = m.encode(&self.signer);
        let conn = if control {
            &mut self.control
        } else {
            &mut self.shell
        };
        conn.send(&frames).unwrap();
        id
    }

    fn decode(&self, frames: Vec<Vec<u8>>) -> Message {
        Message::decode(frames, &self.signer).expect("the kernel sent a bad message")
    }

    pub fn reply(&mut self, control: bool, timeout: Duration) -> Option<Message> {
        let conn = if control {
            &mut self.control
        } else {
            &mut self.shell
        };
        let frames = conn.recv(timeout).unwrap()?;
        Some(self.decode(frames))
    }

    fn next_iopub(&mut self) -> Option<Message> {
        let frames = self.iopub.recv(WAIT).unwrap()?;
        Some(self.decode(frames))
    }

    /// The iopub messages caused by request `id`, from busy to idle.
    pub fn outputs(&mut self, id: &str) -> Vec<Message> {
        let mut seen = Vec::new();
        loop {
            let m = self.next_iopub().expect("iopub went quiet before idle");
            if m.parent_header["msg_id"] != id {
                continue;
            }
            let idle = m.msg_type() == "status" && m.content["execution_state"] == "idle";
            seen.push(m);
            if idle {
                return seen;
            }
        }
    }

    /// Runs a request to the end: its reply and what it published.
    pub fn request(&mut self, msg_type: &str, content: Value) -> (Message, Vec<Message>) {
        let id = self.send(false, msg_type, content);
        let reply = self.reply(false, WAIT).expect("no reply");
        assert_eq!(reply.parent_header["msg_id"], id);
        let outs = self.outputs(&id);
        (reply, outs)
    }

    pub fn execute(&mut self, code: &str) -> (Message, Vec<Message>) {
        self.request(
            "execute_request",
            json!({ "code": code, "silent": false, "store_history": true,
                    "user_expressions": {}, "allow_stdin": false, "stop_on_error": true }),
        )
    }
}

fn types(outs: &[Message]) -> Vec<&str> {
    outs.iter().map(Message::msg_type).collect()
}

fn stdout(outs: &[Message]) -> String {
    outs.iter()
        .filter(|m| m.msg_type() == "stream" && m.content["name"] == "stdout")
        .map(|m| m.content["text"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn kernel_info_describes_the_language() {
    let mut f = Front::start();
    let (reply, outs) = f.request("kernel_info_request", json!({}));
    assert_eq!(reply.msg_type(), "kernel_info_reply");
    let c = &reply.content;
    assert_eq!(c["status"], "ok");
    assert_eq!(c["protocol_version"], "5.3");
    assert_eq!(c["language_info"]["name"], "mem");
    assert_eq!(c["language_info"]["mimetype"], "text/x-mem");
    assert_eq!(c["language_info"]["file_extension"], ".mem");
    assert!(c["help_links"][0]["url"]
        .as_str()
        .unwrap()
        .contains("language.md"));
    assert_eq!(types(&outs), ["status", "status"]);
    assert_eq!(outs[0].content["execution_state"], "busy");
    // The same on control.
    f.send(true, "kernel_info_request", json!({}));
    let r = f.reply(true, WAIT).unwrap();
    assert_eq!(r.content["language_info"]["name"], "mem");
}

#[test]
fn a_cell_streams_its_trace_prints_shows_and_value() {
    let mut f = Front::start();
    let (reply, outs) = f.execute("let p = malloc(40)\nprint 42\nshow maps\n1 + 41");
    assert_eq!(reply.content["status"], "ok", "{:?}", reply.content);
    assert_eq!(reply.content["execution_count"], 1);
    assert_eq!(reply.content["user_expressions"], json!({}));
    assert_eq!(
        types(&outs),
        [
            "status",
            "execute_input",
            "display_data",
            "stream",
            "display_data",
            "execute_result",
            "status"
        ]
    );
    assert_eq!(outs[1].content["execution_count"], 1);
    let trace = &outs[2].content["data"];
    assert!(trace["text/plain"].as_str().unwrap().contains("malloc(40)"));
    assert!(trace["text/html"].as_str().is_some());
    assert_eq!(stdout(&outs), "42\n");
    let maps = &outs[4].content["data"];
    assert!(maps["text/plain"].as_str().unwrap().contains("[heap]"));
    assert!(maps["text/html"].as_str().is_some());
    assert_eq!(outs[4].content["transient"], json!({}));
    let result = &outs[5].content;
    assert_eq!(result["data"]["text/plain"], "42");
    assert_eq!(result["execution_count"], 1);
    assert_eq!(result["transient"], json!({}));

    // State persists; silent cells and cells kept out of history do not count.
    let (reply, outs) = f.execute("print p");
    assert_eq!(reply.content["execution_count"], 2);
    assert_eq!(stdout(&outs), "0x4052a0\n");
    let (reply, outs) = f.request(
        "execute_request",
        json!({ "code": "print 7", "silent": true, "store_history": true }),
    );
    assert_eq!(reply.content["execution_count"], 2);
    assert_eq!(types(&outs), ["status", "status"], "silent: no output");
    let (reply, outs) = f.request(
        "execute_request",
        json!({ "code": "print 8", "silent": false, "store_history": false }),
    );
    assert_eq!(reply.content["execution_count"], 2);
    assert_eq!(stdout(&outs), "8\n");
    let (reply, _) = f.execute("print 9");
    assert_eq!(reply.content["execution_count"], 3);
}

#[test]
fn user_expressions_are_evaluated_without_side_effects() {
    let mut f = Front::start();
    let (reply, _) = f.request(
        "execute_request",
        json!({ "code": "let n = 20", "silent": false, "store_history": true,
                "user_expressions": { "twice": "n * 2", "bad": "nope + 1", "alloc": "malloc(8)" } }),
    );
    let ue = &reply.content["user_expressions"];
    assert_eq!(ue["twice"]["status"], "ok");
    assert_eq!(ue["twice"]["data"]["text/plain"], "40");
    assert_eq!(ue["bad"]["status"], "error");
    assert_eq!(ue["bad"]["ename"], "mem::check::unknown_name");
    // The malloc of the expression left no trace: the cell's own malloc gets the first block.
    let (_, outs) = f.execute("print malloc(40)");
    assert_eq!(stdout(&outs), "0x4052a0\n");
}

#[test]
fn failing_cells_report_errors_and_keep_earlier_statements() {
    let mut f = Front::start();
    let (reply, outs) = f.execute("print nope");
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "mem::check::unknown_name");
    assert_eq!(reply.content["execution_count"], 1);
    let err = outs.iter().find(|m| m.msg_type() == "error").unwrap();
    assert_eq!(err.content["ename"], "mem::check::unknown_name");
    assert!(err.content["evalue"].as_str().unwrap().contains("nope"));
    let tb: Vec<&str> = err.content["traceback"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(tb.concat().contains("\x1b["), "coloured traceback: {tb:?}");

    // A failed expect: the statements before it stay.
    let (reply, outs) = f.execute("let a = 5\nexpect a == 6\nprint a");
    assert_eq!(reply.content["ename"], "mem::expect");
    assert_eq!(types(&outs).iter().filter(|t| **t == "error").count(), 1);
    let (reply, outs) = f.execute("print a");
    assert_eq!(reply.content["status"], "ok");
    assert_eq!(stdout(&outs), "5\n");

    // A segfault no expect catches.
    let (reply, _) = f.execute("let q: *u8 = 0\nq[0] = 1");
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "mem::segv");
}

#[test]
fn cells_queued_behind_a_failed_one_are_aborted() {
    let mut f = Front::start();
    let cell = |code: &str| json!({ "code": code, "silent": false, "store_history": true });
    // A "run all": the second cell is queued while the first still runs, then fails. It is
    // sent once the first is certainly running (its print has arrived), and the loop after
    // the print lasts far longer than a message takes (100,000,000 steps: about a quarter of
    // a second in a release build), so that it is queued however loaded the host is.
    let first = f.send(
        false,
        "execute_request",
        cell("let n = 0\nprint \"running\"\nrepeat 100000000 { n = n + 1 }\nexpect n == 1"),
    );
    loop {
        let m = f.next_iopub().expect("no output while the first cell runs");
        if m.parent_header["msg_id"] == first && m.msg_type() == "stream" {
            assert_eq!(m.content["text"], "running\n");
            break;
        }
    }
    let second = f.send(false, "execute_request", cell("let after = 1"));
    let r1 = f.reply(false, WAIT).unwrap();
    assert_eq!(r1.parent_header["msg_id"], first);
    assert_eq!(r1.content["ename"], "mem::expect");
    let r2 = f.reply(false, WAIT).unwrap();
    assert_eq!(r2.parent_header["msg_id"], second);
    assert_eq!(r2.content["status"], "aborted");
    f.outputs(&second);
    let (reply, _) = f.execute("print after");
    assert_eq!(reply.content["ename"], "mem::check::unknown_name");
    // Without stop_on_error the next cell runs.
    f.send(
        false,
        "execute_request",
        json!({ "code": "let n2 = 0\nrepeat 300000 { n2 = n2 + 1 }\nexpect n2 == 1",
                "stop_on_error": false }),
    );
    f.send(false, "execute_request", cell("let after = 2"));
    assert_eq!(f.reply(false, WAIT).unwrap().content["status"], "error");
    assert_eq!(f.reply(false, WAIT).unwrap().content["status"], "ok");
}

#[test]
fn is_complete_complete_and_inspect() {
    let mut f = Front::start();
    let mut is_complete = |code: &str| {
        let (r, _) = f.request("is_complete_request", json!({ "code": code }));
        r.content
    };
    assert_eq!(is_complete("let p = malloc(40)")["status"], "complete");
    let open = is_complete("repeat 3 {");
    assert_eq!(open["status"], "incomplete");
    assert_eq!(open["indent"], "    ");
    assert_eq!(is_complete("let x = 1 + \\")["status"], "incomplete");
    assert_eq!(is_complete("let = = 1")["status"], "invalid");

    f.execute("let pages = 3");
    let (r, _) = f.request(
        "complete_request",
        json!({ "code": "print pag\nlet q = mall", "cursor_pos": 9 }),
    );
    assert_eq!(r.content["status"], "ok");
    assert!(r.content["matches"]
        .as_array()
        .unwrap()
        .contains(&json!("pages")));
    assert_eq!(r.content["cursor_start"], 6);
    assert_eq!(r.content["cursor_end"], 9);
    let (r, _) = f.request(
        "complete_request",
        json!({ "code": "print pag\nlet q = mall", "cursor_pos": 22 }),
    );
    assert!(r.content["matches"]
        .as_array()
        .unwrap()
        .contains(&json!("malloc")));
    assert_eq!(r.content["cursor_start"], 18);
    let types = r.content["metadata"]["_jupyter_types_experimental"]
        .as_array()
        .unwrap();
    let malloc = types.iter().find(|t| t["text"] == "malloc").unwrap();
    assert_eq!(malloc["type"], "function");
    assert_eq!(malloc["signature"], "malloc(n)");

    let mut inspect = |code: &str, pos: usize| {
        let (r, _) = f.request(
            "inspect_request",
            json!({ "code": code, "cursor_pos": pos, "detail_level": 0 }),
        );
        r.content
    };
    let m = inspect("let p = malloc(40)", 10);
    assert_eq!(m["found"], true);
    assert!(m["data"]["text/plain"]
        .as_str()
        .unwrap()
        .contains("malloc("));
    assert_eq!(
        inspect("print pages", 8)["data"]["text/plain"],
        "pages: long = 3\n"
    );
    assert_eq!(inspect("print stats.faults", 12)["found"], true);
    assert_eq!(inspect("print zzzz", 8)["found"], false);
}

#[test]
fn history_tail_range_and_search() {
    let mut f = Front::start();
    f.execute("let a = 1");
    f.execute("let b = 2");
    f.execute("a + b");
    let mut history = |content: Value| {
        let (r, _) = f.request("history_request", content);
        r.content["history"].as_array().unwrap().clone()
    };
    let tail = history(json!({ "hist_access_type": "tail", "n": 2, "output": false, "raw": true }));
    assert_eq!(tail, [json!([1, 2, "let b = 2"]), json!([1, 3, "a + b"])]);
    let out = history(json!({ "hist_access_type": "tail", "n": 1, "output": true, "raw": true }));
    assert_eq!(out, [json!([1, 3, ["a + b", "3"]])]);
    let range = history(
        json!({ "hist_access_type": "range", "session": 0, "start": 1, "stop": 2,
                                "output": false, "raw": true }),
    );
    assert_eq!(range, [json!([1, 1, "let a = 1"])]);
    let search = history(json!({ "hist_access_type": "search", "pattern": "let *",
                                 "output": false, "raw": true }));
    assert_eq!(
        search,
        [json!([1, 1, "let a = 1"]), json!([1, 2, "let b = 2"])]
    );
}

#[test]
fn an_interrupt_stops_a_long_cell() {
    let mut f = Front::start();
    f.execute("let p: *u8 = malloc(64)\np[0] = 7");
    let id = f.send(
        false,
        "execute_request",
        json!({ "code": "p[0] = 9\nprint \"running\"\nrepeat 1000000000000 { p[1] = 1 }",
                "silent": false, "store_history": true }),
    );
    // The button is pressed once the loop is certainly running: its print has arrived.
    loop {
        let m = f.next_iopub().expect("no output while the cell runs");
        if m.parent_header["msg_id"] == id && m.msg_type() == "stream" {
            assert_eq!(m.content["text"], "running\n");
            break;
        }
    }
    f.send(true, "interrupt_request", json!({}));
    let r = f.reply(true, WAIT).unwrap();
    assert_eq!(r.msg_type(), "interrupt_reply");
    let reply = f.reply(false, WAIT).expect("the interrupted cell replies");
    assert_eq!(reply.parent_header["msg_id"], id);
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "mem::interrupted");
    f.outputs(&id);
    // The whole statement before the loop stays.
    let (_, outs) = f.execute("print p[0], p[1]");
    assert_eq!(stdout(&outs), "9 0\n");
}

#[test]
fn statements_stream_while_the_cell_still_runs() {
    let mut f = Front::start();
    f.execute("let p: *u8 = malloc(64)");
    let id = f.send(
        false,
        "execute_request",
        json!({ "code": "print \"first\"\nrepeat 1000000000000 { p[1] = 1 }",
                "silent": false, "store_history": true }),
    );
    // The print arrives while the loop is still running: nothing has interrupted it yet.
    loop {
        let m = f.next_iopub().expect("no output while the cell runs");
        if m.parent_header["msg_id"] == id && m.msg_type() == "stream" {
            assert_eq!(m.content["text"], "first\n");
            break;
        }
    }
    assert!(
        f.reply(false, Duration::from_millis(200)).is_none(),
        "the cell is still running"
    );
    f.send(true, "interrupt_request", json!({}));
    let reply = f.reply(false, WAIT).unwrap();
    assert_eq!(reply.content["ename"], "mem::interrupted");
}

#[test]
fn a_long_replay_shows_its_progress() {
    // From its start, so that the line does not depend on how fast this host replays.
    let mut f = Front::start_with(&[("MEMSIM_PROGRESS_AFTER", "0s")]);
    let dir = TempDir::new("progress");
    let trace = dir.0.join("long.trace");
    let lines: String = (0..600_000u64)
        .map(|i| format!("{:#x}\n", 0x10000 + (i % 64) * 4096))
        .collect();
    std::fs::write(&trace, lines).unwrap();
    let (reply, outs) = f.execute(&format!("trace \"{}\"", trace.display()));
    assert_eq!(reply.content["status"], "ok", "{:?}", reply.content);
    // The trace's own display may come before it: the line is the display that says so.
    let first = outs
        .iter()
        .find(|m| {
            m.msg_type() == "display_data"
                && m.content["data"]["text/plain"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("replaying: "))
        })
        .expect("a progress line");
    let id = first.content["transient"]["display_id"].clone();
    assert!(id.is_string());
    let last = outs
        .iter()
        .rfind(|m| m.msg_type() == "update_display_data")
        .expect("the line is updated when the replay ends");
    assert_eq!(last.content["transient"]["display_id"], id);
    assert_eq!(
        last.content["data"]["text/plain"],
        "replaying: 600,000 of 600,000 references"
    );
}

#[test]
fn a_long_statement_shows_its_progress_on_stderr() {
    let mut f = Front::start();
    f.execute("let p: *u8 = malloc(64)");
    let id = f.send(
        false,
        "execute_request",
        json!({ "code": "print \"start\"\nrepeat 1000000000000 { p[1] = 1 }",
                "silent": false, "store_history": true }),
    );
    let started = Instant::now();
    let mut lines = Vec::new();
    while lines.len() < 2 {
        let m = f.next_iopub().expect("no progress while the cell runs");
        if m.parent_header["msg_id"] == id
            && m.msg_type() == "stream"
            && m.content["name"] == "stderr"
        {
            lines.push(m.content["text"].as_str().unwrap().to_string());
        }
    }
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(lines[0].starts_with("line 2: 1."), "{lines:?}");
    assert!(lines[0].ends_with(" steps (interrupt the kernel to stop it)"));
    assert!(lines[1].starts_with("\rline 2: 2."), "{lines:?}");
    f.send(true, "interrupt_request", json!({}));
    let reply = f.reply(false, WAIT).unwrap();
    assert_eq!(reply.content["ename"], "mem::interrupted");
    let outs = f.outputs(&id);
    let last = outs
        .iter()
        .rfind(|m| m.msg_type() == "stream" && m.content["name"] == "stderr")
        .expect("a last progress line");
    let text = last.content["text"].as_str().unwrap();
    assert!(
        text.starts_with("\rline 2: ") && text.ends_with('\n'),
        "{text:?}"
    );
    assert!(!text.contains("interrupt the kernel"), "{text:?}");
    // A short cell says nothing of the kind.
    let (_, outs) = f.execute("repeat 1000 { p[1] = 2 }");
    assert!(!outs
        .iter()
        .any(|m| m.msg_type() == "stream" && m.content["name"] == "stderr"));
}

#[test]
fn trace_magic_turns_the_trace_off_and_on() {
    let mut f = Front::start();
    let (reply, outs) = f.execute("%trace off\nlet p = malloc(40)\nprint 1");
    assert_eq!(reply.content["status"], "ok", "{:?}", reply.content);
    assert_eq!(
        stdout(&outs),
        "trace off: only what statements print, show and evaluate\n1\n"
    );
    assert!(
        !types(&outs).contains(&"display_data"),
        "{:?}",
        types(&outs)
    );
    // It lasts into later cells.
    let (_, outs) = f.execute("let q = malloc(40)");
    assert_eq!(types(&outs), ["status", "execute_input", "status"]);
    let (_, outs) = f.execute("%trace");
    assert_eq!(stdout(&outs), "the trace is off\n");
    let (_, outs) = f.execute("# back on\n%trace on\nlet r = malloc(40)");
    assert!(types(&outs).contains(&"display_data"), "{:?}", types(&outs));
    // Line numbers stay the cell's.
    let (reply, _) = f.execute("%trace on\nprint nothing_here");
    assert!(
        reply.content["traceback"].to_string().contains("cell 5:2"),
        "{}",
        reply.content["traceback"]
    );
    // An unknown magic fails the cell before any of it runs.
    let (reply, outs) = f.execute("%timeit\nlet s = 1");
    assert_eq!(reply.content["status"], "error");
    assert_eq!(reply.content["ename"], "mem::kernel::magic");
    assert!(types(&outs).contains(&"error"));
    let (reply, _) = f.execute("print s");
    assert_eq!(reply.content["ename"], "mem::check::unknown_name");
    let (r, _) = f.request("is_complete_request", json!({ "code": "%trace off" }));
    assert_eq!(r.content["status"], "complete");
    let (r, _) = f.request(
        "is_complete_request",
        json!({ "code": "%trace off\nrepeat 2 {" }),
    );
    assert_eq!(r.content["status"], "incomplete");
}

#[test]
fn a_replayed_message_runs_once() {
    let mut f = Front::start();
    f.execute("let n = 0");
    let m = f.message(
        "execute_request",
        json!({ "code": "n = n + 1", "silent": false, "store_history": true }),
    );
    let frames = m.encode(&f.signer);
    f.shell.send(&frames).unwrap();
    assert_eq!(f.reply(false, WAIT).unwrap().content["status"], "ok");
    f.shell.send(&frames).unwrap();
    assert!(f.reply(false, Duration::from_millis(500)).is_none());
    let (_, outs) = f.execute("print n");
    assert_eq!(stdout(&outs), "1\n");
}

#[test]
fn shutdown_and_restart() {
    let mut f = Front::start();
    f.execute("let kept = 1");
    f.send(true, "shutdown_request", json!({ "restart": true }));
    let r = f.reply(true, WAIT).unwrap();
    assert_eq!(r.msg_type(), "shutdown_reply");
    assert_eq!(r.content["restart"], true);
    let start = Instant::now();
    let status = loop {
        if let Some(s) = f.child.try_wait().unwrap() {
            break s;
        }
        assert!(start.elapsed() < WAIT, "the kernel did not exit");
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        status.success(),
        "{status}: {}",
        std::fs::read_to_string(stderr_file(&f.file)).unwrap_or_default()
    );
    // Jupyter starts the kernel again on the same connection file: a fresh session.
    let (ports, file) = (f.ports, f.file.clone());
    let dir = std::mem::replace(&mut f._dir, TempDir::new("spare"));
    let mut g = Front::restart(ports, file, dir);
    let (reply, _) = g.execute("print kept");
    assert_eq!(reply.content["ename"], "mem::check::unknown_name");
    assert_eq!(reply.content["execution_count"], 1);
}

#[test]
fn a_badly_signed_message_never_runs() {
    let mut f = Front::start();
    let mut m = Message::new(
        "intruder",
        "execute_request",
        None,
        json!({ "code": "let secret = 1", "silent": false }),
    );
    m.metadata = json!({});
    let forged = m.encode(&Signer::new("not the key"));
    f.shell.send(&forged).unwrap();
    let mut unsigned = m.encode(&Signer::new(""));
    unsigned[1] = Vec::new();
    f.shell.send(&unsigned).unwrap();
    assert!(f.reply(false, Duration::from_millis(300)).is_none());
    let (reply, _) = f.execute("print secret");
    assert_eq!(reply.content["ename"], "mem::check::unknown_name");
}

#[test]
fn garbage_never_ends_the_kernel() {
    let mut f = Front::start();
    // Multipart messages that are not Jupyter messages.
    let garbage: Vec<Vec<Vec<u8>>> = vec![
        vec![b"no delimiter".to_vec()],
        vec![b"<IDS|MSG>".to_vec(), b"sig".to_vec()],
        vec![
            b"<IDS|MSG>".to_vec(),
            Vec::new(),
            b"{not json".to_vec(),
            b"{}".to_vec(),
            b"{}".to_vec(),
            b"{}".to_vec(),
        ],
        vec![vec![0xff; 3000]],
    ];
    for g in &garbage {
        f.shell.send(g).unwrap();
        f.control.send(g).unwrap();
    }
    // A well-signed message with nonsense inside.
    let m = Message::new("front", "execute_request", None, json!({ "code": 42 }));
    f.shell.send(&m.encode(&f.signer)).unwrap();
    let r = f.reply(false, WAIT).unwrap();
    assert_eq!(r.content["status"], "ok");
    // Bytes that are not even ZeroMQ, on new connections to every socket.
    for port in f.ports {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            use std::io::Write;
            let _ = s.write_all(b"GET / HTTP/1.1\r\n\r\n\xff\x00\x01\x02");
        }
    }
    // A proper ZeroMQ greeting and READY, then a frame that claims 2^64 - 1 bytes.
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", f.ports[0])) {
        use std::io::Write;
        let mut greeting = [0u8; 64];
        greeting[0] = 0xff;
        greeting[9] = 0x7f;
        greeting[10] = 3;
        greeting[12..16].copy_from_slice(b"NULL");
        let mut ready = vec![0x04, 0];
        let body = b"\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER";
        ready[1] = body.len() as u8;
        ready.extend_from_slice(body);
        let _ = s.write_all(&greeting);
        let _ = s.write_all(&ready);
        let _ = s.write_all(&[0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    }
    // An unknown request gets an error reply, never silence.
    let (r, _) = f.request("frobnicate_request", json!({}));
    assert_eq!(r.msg_type(), "frobnicate_reply");
    assert_eq!(r.content["status"], "error");
    let (r, outs) = f.request("comm_info_request", json!({}));
    assert_eq!(r.content["comms"], json!({}));
    assert_eq!(types(&outs), ["status", "status"]);
    let id = f.send(
        false,
        "comm_open",
        json!({ "comm_id": "c1", "target_name": "x", "data": {} }),
    );
    let outs = f.outputs(&id);
    assert_eq!(types(&outs), ["status", "comm_close", "status"]);
    assert_eq!(outs[1].content["comm_id"], "c1");
    let (r, _) = f.execute("print 1");
    assert_eq!(r.content["status"], "ok");
}

#[test]
fn heartbeat_echoes() {
    let mut f = Front::start();
    f.hb.send(&[b"ping".to_vec()]).unwrap();
    let echo = f.hb.recv(WAIT).unwrap().unwrap();
    assert_eq!(echo, [b"ping".to_vec()]);
}

#[test]
fn bad_connection_files_are_clear_errors() {
    let dir = TempDir::new("conn");
    let run = |file: &PathBuf| {
        let out = Command::new(env!("CARGO_BIN_EXE_memsim"))
            .args(["--color", "never", "kernel", "--connection-file"])
            .arg(file)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&dir.0.join("missing.json"));
    assert_eq!(code, Some(2));
    assert!(err.contains("mem::kernel::connection_file"), "{err}");
    let bad = dir.0.join("bad.json");
    std::fs::write(&bad, "{\"shell_port\": ").unwrap();
    let (code, err) = run(&bad);
    assert_eq!(code, Some(2));
    assert!(err.contains("mem::kernel::connection_json"), "{err}");
    let md5 = dir.0.join("md5.json");
    std::fs::write(&md5, connection_json(free_ports(), KEY, "hmac-md5")).unwrap();
    let (code, err) = run(&md5);
    assert_eq!(code, Some(2));
    assert!(err.contains("mem::kernel::signature_scheme"), "{err}");
}

#[test]
fn install_list_uninstall() {
    let dir = TempDir::new("install");
    let memsim = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_memsim"))
            .args(args)
            .env("JUPYTER_PATH", dir.0.join("share").join("jupyter"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let prefix = dir.0.to_str().unwrap();
    let (code, out, _) = memsim(&["kernel", "install", "--prefix", prefix]);
    assert_eq!(code, Some(0));
    let spec = dir.0.join("share/jupyter/kernels/mem");
    assert!(out.contains(spec.to_str().unwrap()), "{out}");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(spec.join("kernel.json")).unwrap()).unwrap();
    assert_eq!(json["argv"][0], env!("CARGO_BIN_EXE_memsim"));
    assert_eq!(
        json["argv"].as_array().unwrap()[1..],
        [
            json!("kernel"),
            json!("--connection-file"),
            json!("{connection_file}")
        ]
    );
    assert_eq!(json["display_name"], "Mem (memsim)");
    assert_eq!(json["language"], "mem");
    assert_eq!(json["interrupt_mode"], "message");
    assert_eq!(json["kernel_protocol_version"], "5.3");
    for logo in ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"] {
        assert!(spec.join(logo).is_file(), "{logo}");
    }
    let (_, out, _) = memsim(&["kernel", "list"]);
    assert!(out.starts_with("mem  "), "{out}");
    let (code, _, _) = memsim(&["kernel", "uninstall", "--prefix", prefix]);
    assert_eq!(code, Some(0));
    assert!(!spec.exists());
    let (code, _, err) = memsim(&["kernel", "uninstall", "--prefix", prefix]);
    assert_eq!(code, Some(2));
    assert!(err.contains("mem::kernel::not_installed"), "{err}");
    let (code, _, err) = memsim(&["kernel", "install", "--prefix", prefix, "--name", "a/b"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("mem::kernel::name"), "{err}");
}
