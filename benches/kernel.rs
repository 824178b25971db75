//! Criterion benchmark of the Jupyter kernel's round trip: a small cell sent over a real socket
//! to `memsim kernel`, until the kernel says it is idle again.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use memsim::kernel::jupyter::client::Conn;
use memsim::kernel::jupyter::{Message, Signer};
use serde_json::json;

const KEY: &str = "bench-key";

struct Kernel(Child);

impl Drop for Kernel {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn connect(port: u16, ty: &str) -> Conn {
    let start = Instant::now();
    loop {
        match Conn::connect(port, ty, b"bench") {
            Ok(c) => return c,
            Err(e) if start.elapsed() > Duration::from_secs(20) => panic!("no kernel: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn round_trip(c: &mut Criterion) {
    let ls: Vec<TcpListener> = (0..5)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = ls.iter().map(|l| l.local_addr().unwrap().port()).collect();
    drop(ls);
    let file =
        std::env::temp_dir().join(format!("memsim-bench-kernel-{}.json", std::process::id()));
    let info = json!({
        "ip": "127.0.0.1", "transport": "tcp", "shell_port": ports[0], "iopub_port": ports[1],
        "stdin_port": ports[2], "control_port": ports[3], "hb_port": ports[4],
        "key": KEY, "signature_scheme": "hmac-sha256",
    });
    std::fs::write(&file, info.to_string()).unwrap();
    let _kernel = Kernel(
        Command::new(env!("CARGO_BIN_EXE_memsim"))
            .args(["kernel", "--connection-file"])
            .arg(&file)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut shell = connect(ports[0], "DEALER");
    let mut iopub = connect(ports[1], "SUB");
    iopub.subscribe_all().unwrap();
    let signer = Signer::new(KEY);
    let wait = Duration::from_secs(20);
    iopub.recv(wait).unwrap().expect("the iopub welcome");

    c.bench_function("kernel: execute `let p = malloc(40)` to idle", |b| {
        b.iter(|| {
            let m = Message::new(
                "bench",
                "execute_request",
                None,
                json!({ "code": "let p = malloc(40)", "silent": false, "store_history": true }),
            );
            let id = m.header["msg_id"].clone();
            shell.send(&m.encode(&signer)).unwrap();
            loop {
                let frames = iopub.recv(wait).unwrap().expect("iopub went quiet");
                let m = Message::decode(frames, &signer).unwrap();
                if m.parent_header["msg_id"] == id
                    && m.msg_type() == "status"
                    && m.content["execution_state"] == "idle"
                {
                    break;
                }
            }
            shell.recv(wait).unwrap().expect("the execute reply");
        })
    });
    let _ = std::fs::remove_file(&file);
}

criterion_group!(benches, round_trip);
criterion_main!(benches);
