//! `Test::new()`: a small builder that runs the `memsim` binary in a scratch folder.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Test {
    dir: PathBuf,
    args: Vec<String>,
    stdin: Option<String>,
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
        }
    }

    /// Writes a file into the scratch folder.
    pub fn file(self, name: &str, contents: &str) -> Self {
        let path = self.dir.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dir");
        }
        std::fs::write(path, contents).expect("write");
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    #[allow(dead_code)]
    pub fn stdin(mut self, s: &str) -> Self {
        self.stdin = Some(s.to_string());
        self
    }

    pub fn run(self) -> Output {
        let mut child = Command::new(env!("CARGO_BIN_EXE_memsim"))
            .args(&self.args)
            .current_dir(&self.dir)
            .env("NO_COLOR", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("memsim runs");
        if let Some(s) = &self.stdin {
            // memsim may exit without reading its input (a usage error): a broken pipe then
            // is not the test's failure.
            let _ = child.stdin.take().expect("stdin").write_all(s.as_bytes());
        } else {
            drop(child.stdin.take());
        }
        let out = child.wait_with_output().expect("memsim finishes");
        let _ = std::fs::remove_dir_all(&self.dir);
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}
