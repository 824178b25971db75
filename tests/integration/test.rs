//! `Test::new()`: a small builder that runs the `memsim` binary in a scratch folder.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Test {
    dir: PathBuf,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    stdout: Stdout,
}

/// Where the binary's standard output goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stdout {
    /// A pipe the test reads.
    Captured,
    /// A pipe whose reading end is closed as soon as the binary starts, as `| head -1` does
    /// once it has its line.
    Closed,
    /// `/dev/full`: every write fails with "no space left on device".
    Full,
}

pub struct Output {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Test {
    pub fn new() -> Self {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("memsim-test-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Test {
            dir,
            args: Vec::new(),
            stdin: None,
            stdout: Stdout::Captured,
        }
    }

    /// Writes a file into the scratch folder.
    pub fn file(self, name: &str, contents: &str) -> Self {
        self.file_bytes(name, contents.as_bytes())
    }

    /// Writes a file that need not be text.
    pub fn file_bytes(self, name: &str, contents: &[u8]) -> Self {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(path, contents).expect("write");
        self
    }

    /// The scratch folder, for files the builder cannot make (a FIFO).
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    #[allow(dead_code)]
    pub fn stdin(self, s: &str) -> Self {
        self.stdin_bytes(s.as_bytes())
    }

    #[allow(dead_code)]
    pub fn stdin_bytes(mut self, s: &[u8]) -> Self {
        self.stdin = Some(s.to_vec());
        self
    }

    #[allow(dead_code)]
    pub fn stdout(mut self, to: Stdout) -> Self {
        self.stdout = to;
        self
    }

    pub fn run(self) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_memsim"))
            .args(&self.args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(match self.stdout {
                Stdout::Full => Stdio::from(std::fs::File::create("/dev/full").expect("/dev/full")),
                Stdout::Captured | Stdout::Closed => Stdio::piped(),
            })
            .stderr(Stdio::piped())
            .spawn()
            .expect("memsim runs");
        if self.stdout == Stdout::Closed {
            drop(child.stdout.take());
        }
        // Fed from a thread: memsim may write more than a pipe holds before it reads it all.
        let stdin = child.stdin.take().expect("stdin");
        let feed = self.stdin.clone().map(|s| {
            std::thread::spawn(move || {
                let mut stdin = stdin;
                // memsim may exit without reading its input (a usage error, a closed output):
                // a broken pipe then is not the test's failure.
                let _ = stdin.write_all(&s);
            })
        });
        let out = child.wait_with_output().expect("memsim finishes");
        if let Some(f) = feed {
            f.join().expect("stdin fed");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
