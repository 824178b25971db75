//! The kernel proper: one [`Session`] driven by Jupyter requests. Shell requests run one at a
//! time on the main thread; control requests (interrupt, shutdown) are answered on a thread of
//! their own so that they get through while a cell runs.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::jupyter::{Channel, Frames, Inbox, Message, Transport, PROTOCOL_VERSION};
use super::magic::{self, BadMagic, Magic};
use super::outputs;
use crate::diag::kernel::KernelError;
use crate::ide::{complete, help, input};
use crate::session::{ChunkResult, Interrupt, Options, Progress, ProgressFn, Session};

/// An accepted cell, for `history` requests.
struct Entry {
    line: u64,
    input: String,
    output: Option<String>,
}

/// What the main thread does next.
enum Work {
    Shell(Frames),
    /// A request already checked, put back in line.
    Decoded(Message),
    Shutdown,
}

/// The number IPython gives the current session in history replies.
const HISTORY_SESSION: u64 = 1;

pub struct Kernel {
    t: Transport,
    session: Session,
    count: u64,
    history: Vec<Entry>,
    progress: Arc<Mutex<ProgressLine>>,
    work: mpsc::Receiver<Work>,
    deferred: VecDeque<Work>,
}

/// The session options of a notebook: like the REPL's, a failed statement is rolled back and
/// blocks live on into the next cell; a long replay reports its progress.
fn options(progress: &Arc<Mutex<ProgressLine>>, t: &Transport) -> Options {
    let (line, t) = (progress.clone(), t.clone());
    Options {
        rollback: true,
        report_leaks: false,
        progress: Some(ProgressFn(Arc::new(move |p: &Progress| {
            // A replay of known length gets a line updated in place; other long statements
            // a line on stderr, as the CLI's spinner.
            match (p.of, p.finished) {
                (Some((done, total)), false) => lock(&line).update(&t, done, total),
                (Some(_), true) => {}
                (None, _) => lock(&line).spin(&t, p),
            }
        }))),
        ..env_limits(&|k| std::env::var(k).ok(), &mut |e| {
            eprintln!("memsim kernel: {e}")
        })
    }
}

/// The default options with the limits the kernel's environment sets: a notebook server
/// starts kernels with the limits of its host. A value that is not one is reported and the
/// default kept.
pub fn env_limits(get: &dyn Fn(&str) -> Option<String>, warn: &mut dyn FnMut(String)) -> Options {
    fn number<T: std::str::FromStr>(
        get: &dyn Fn(&str) -> Option<String>,
        key: &str,
        warn: &mut dyn FnMut(String),
    ) -> Option<T> {
        let v = get(key)?;
        let parsed = v.trim().replace('_', "").parse().ok();
        if parsed.is_none() {
            warn(format!("{key}={v} is not a number; the default is kept"));
        }
        parsed
    }
    let mut o = Options::default();
    if let Some(n) = number(get, "MEMSIM_MAX_STEPS", warn) {
        o.max_steps = n;
    }
    if let Some(n) = number(get, "MEMSIM_MAX_EVENTS", warn) {
        o.events_per_step = n;
    }
    if let Some(n) = number(get, "MEMSIM_MAX_SOURCE", warn) {
        o.max_source_bytes = n;
    }
    if let Some(n) = number(get, "MEMSIM_MAX_LINE", warn) {
        o.max_line_bytes = n;
    }
    if let Some(n) = number(get, "MEMSIM_MAX_DEPTH", warn) {
        // Deeper than the ceiling counts as the ceiling: the parser clamps it.
        o.max_depth = n;
    }
    if let Some(n) = number(get, "MEMSIM_MAX_PROCESSES", warn) {
        o.max_processes = n;
    }
    if let Some(n) = number(get, "MEMSIM_MAX_TRACE_LINE", warn) {
        o.max_trace_line = n;
    }
    if let Some(v) = get("MEMSIM_MAX_MEMORY") {
        match crate::profile::parse_size(&v).and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n > 0 => o.max_host_bytes = n,
            _ => warn(format!(
                "MEMSIM_MAX_MEMORY={v} is not a size such as `512 MiB`; the default is kept"
            )),
        }
    }
    if let Some(v) = get("MEMSIM_TIMEOUT") {
        match crate::units::parse_duration(&v) {
            Ok(d) => o.timeout = Some(d),
            Err(_) => warn(format!(
                "MEMSIM_TIMEOUT={v} is not a duration such as `30s`; no time limit"
            )),
        }
    }
    if let Some(v) = get("MEMSIM_PROGRESS_AFTER") {
        match crate::units::parse_delay(&v) {
            Ok(d) => o.progress_after = d,
            Err(_) => warn(format!(
                "MEMSIM_PROGRESS_AFTER={v} is not a duration such as `500ms`; the default is kept"
            )),
        }
    }
    if let Some(v) = get("MEMSIM_ROOT").filter(|v| !v.is_empty()) {
        o.root = Some(v.into());
    }
    o
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How often a progress line is redrawn: often enough to look alive, not a flood of messages.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// How often the line of a long statement is rewritten.
const SPIN_EVERY: Duration = Duration::from_secs(1);

/// The progress line of a long replay: one output updated in place (`update_display_data`);
/// and of any other statement that runs for more than a second: a `stream` line that each
/// report rewrites (`\r`, which notebooks and terminals both honour).
#[derive(Default)]
pub struct ProgressLine {
    /// The request running now.
    parent: Option<Message>,
    /// The line's display id and the replay's length, once it is shown.
    shown: Option<(String, u64)>,
    last: Option<Instant>,
    /// The running statement is a replay: its own line says how it gets on.
    replaying: bool,
    /// The stream line of a long statement: when it was last written, and how long it was.
    spun: Option<(Instant, usize)>,
}

impl ProgressLine {
    fn text(done: u64, total: u64) -> Value {
        let data = format!(
            "replaying: {} of {} references",
            thousands(done),
            thousands(total)
        );
        json!({ "text/plain": data })
    }

    /// A long statement that is not a replay: after a second, a line on stderr, rewritten
    /// every second, and written a last time, whole, when the statement ends.
    fn spin(&mut self, t: &Transport, p: &Progress) {
        let Some(parent) = &self.parent else { return };
        if self.replaying {
            return;
        }
        let mut text = format!(
            "line {}: {:.1} s, {} steps",
            p.line,
            p.elapsed.as_secs_f64(),
            thousands(p.steps)
        );
        let restart = match self.spun {
            Some((_, width)) if p.finished => {
                // Padded over the longer line it replaces, for terminals.
                text = format!("{text:width$}\n");
                self.spun = None;
                "\r"
            }
            None if p.finished => return,
            Some((last, _)) if last.elapsed() < SPIN_EVERY => return,
            Some(_) => "\r",
            None => "",
        };
        if !p.finished {
            text.push_str(" (interrupt the kernel to stop it)");
            self.spun = Some((Instant::now(), text.len()));
        }
        t.publish(
            Some(parent),
            "stream",
            json!({ "name": "stderr", "text": format!("{restart}{text}") }),
        );
    }

    fn update(&mut self, t: &Transport, done: u64, total: u64) {
        self.replaying = true;
        if self.last.is_some_and(|l| l.elapsed() < PROGRESS_EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        let Some(parent) = &self.parent else { return };
        let msg_type = match &self.shown {
            Some((_, n)) if *n == total => "update_display_data",
            _ => {
                self.shown = Some((super::jupyter::new_id(), total));
                "display_data"
            }
        };
        let id = self.shown.as_ref().map(|s| s.0.clone());
        t.publish(
            Some(parent),
            msg_type,
            json!({ "data": Self::text(done, total), "metadata": {},
                    "transient": { "display_id": id } }),
        );
    }

    /// The statement ended: the line says the whole replay ran (or how far it got).
    fn finish(&mut self, t: &Transport, done_all: bool) {
        if let (Some((id, total)), Some(parent)) = (self.shown.take(), &self.parent) {
            if done_all {
                t.publish(
                    Some(parent),
                    "update_display_data",
                    json!({ "data": Self::text(total, total), "metadata": {},
                            "transient": { "display_id": id } }),
                );
            }
        }
        self.last = None;
        self.replaying = false;
    }
}

/// Serves requests until a shutdown request.
pub fn serve(t: Transport, inbox: Inbox, base_dir: PathBuf) {
    let progress = Arc::new(Mutex::new(ProgressLine::default()));
    let mut session = Session::new(options(&progress, &t));
    session.set_base_dir(base_dir);
    let interrupt = session.interrupt_handle();
    #[cfg(feature = "cli")]
    {
        // SIGINT (Jupyter's "signal" interrupt mode, or Ctrl-C in a terminal) stops the cell,
        // not the kernel.
        let i = interrupt.clone();
        let _ = ctrlc::set_handler(move || i.interrupt());
    }
    let (work_tx, work_rx) = mpsc::channel();
    let shell_tx = work_tx.clone();
    let Inbox { shell, control } = inbox;
    std::thread::spawn(move || {
        for frames in shell {
            if shell_tx.send(Work::Shell(frames)).is_err() {
                break;
            }
        }
    });
    let ct = t.clone();
    std::thread::spawn(move || {
        for frames in control {
            if let Some(m) = ct.decode(Channel::Control, frames) {
                if control_request(&ct, &m, &interrupt) {
                    let _ = work_tx.send(Work::Shutdown);
                }
            }
        }
    });
    let mut kernel = Kernel {
        t,
        session,
        count: 0,
        history: Vec::new(),
        progress,
        work: work_rx,
        deferred: VecDeque::new(),
    };
    loop {
        let w = match kernel.deferred.pop_front() {
            Some(w) => w,
            None => match kernel.work.recv() {
                Ok(w) => w,
                Err(_) => break,
            },
        };
        let m = match w {
            Work::Shell(frames) => match kernel.t.decode(Channel::Shell, frames) {
                Some(m) => m,
                None => continue,
            },
            Work::Decoded(m) => m,
            Work::Shutdown => break,
        };
        // A bug in the engine must not take the notebook's kernel down with it.
        match std::panic::catch_unwind(AssertUnwindSafe(|| kernel.shell_request(&m))) {
            Ok(Handled::Stop) => break,
            Ok(Handled::Done) => {}
            Err(_) => internal_error(&kernel.t, &m),
        }
    }
    kernel.t.flush();
}

/// What became of a shell request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    Done,
    /// A shutdown request.
    Stop,
}

/// The reply to a cell skipped because one before it failed.
fn abort(t: &Transport, m: &Message) {
    t.publish(Some(m), "status", json!({ "execution_state": "busy" }));
    t.reply(
        Channel::Shell,
        m,
        "execute_reply",
        json!({ "status": "aborted", "execution_count": null }),
    );
    t.publish(Some(m), "status", json!({ "execution_state": "idle" }));
}

/// The answer when handling a request panicked: an error reply, and the kernel goes on.
fn internal_error(t: &Transport, m: &Message) {
    let evalue = "memsim failed inside while handling this request (a bug: please report \
                  the cell)";
    let content = json!({ "ename": "mem::kernel::internal", "evalue": evalue,
                          "traceback": [evalue] });
    t.publish(Some(m), "error", content.clone());
    let mut reply = content;
    reply["status"] = "error".into();
    let name = m.msg_type();
    let name = match name.strip_suffix("_request") {
        Some(stem) => format!("{stem}_reply"),
        None => format!("{name}_reply"),
    };
    t.reply(Channel::Shell, m, &name, reply);
    t.publish(Some(m), "status", json!({ "execution_state": "idle" }));
}

/// Answers a control request; true when the kernel should stop.
fn control_request(t: &Transport, m: &Message, interrupt: &Interrupt) -> bool {
    t.publish(Some(m), "status", json!({ "execution_state": "busy" }));
    let mut stop = false;
    match m.msg_type() {
        "kernel_info_request" => t.reply(Channel::Control, m, "kernel_info_reply", kernel_info()),
        "interrupt_request" => {
            interrupt.interrupt();
            t.reply(
                Channel::Control,
                m,
                "interrupt_reply",
                json!({ "status": "ok" }),
            );
        }
        "shutdown_request" => {
            interrupt.interrupt();
            stop = true;
            t.reply(Channel::Control, m, "shutdown_reply", shutdown_content(m));
        }
        other => unknown(t, Channel::Control, m, other),
    }
    t.publish(Some(m), "status", json!({ "execution_state": "idle" }));
    stop
}

fn shutdown_content(m: &Message) -> Value {
    let restart = m.content["restart"].as_bool().unwrap_or(false);
    json!({ "status": "ok", "restart": restart })
}

/// The error reply to a request this kernel does not know: never silence.
fn unknown(t: &Transport, channel: Channel, m: &Message, msg_type: &str) {
    let reply = match msg_type.strip_suffix("_request") {
        Some(stem) => format!("{stem}_reply"),
        None => format!("{msg_type}_reply"),
    };
    let evalue = format!("memsim's kernel does not handle `{msg_type}` messages");
    t.reply(
        channel,
        m,
        &reply,
        json!({
            "status": "error",
            "ename": "mem::kernel::unknown_request",
            "evalue": evalue,
            "traceback": [evalue],
        }),
    );
}

/// `kernel_info_reply`'s content.
pub fn kernel_info() -> Value {
    let version = env!("CARGO_PKG_VERSION");
    let docs = std::env::var("MEMSIM_KERNEL_DOCS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md").to_string());
    json!({
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": "memsim",
        "implementation_version": version,
        "language_info": {
            "name": "mem",
            "version": version,
            "mimetype": "text/x-mem",
            "file_extension": ".mem",
            // Both highlight `#` comments, strings and numbers, which is what .mem has in
            // common with Python.
            "pygments_lexer": "python3",
            "codemirror_mode": { "name": "python", "version": 3 },
            "nbconvert_exporter": "script",
        },
        "banner": format!(
            "memsim {version}: memory-management scenarios on a simulated MMU and OS \
             (Linux x86-64 + glibc)\nTab completes, Shift-Tab on a word explains it; in a \
             notebook `show maps`, `show frames`, `show walk ADDR` and `show heap` draw pictures."
        ),
        "help_links": [
            { "text": "The .mem language", "url": format!("file://{docs}") },
        ],
        "debugger": false,
    })
}

impl Kernel {
    /// Answers a shell request.
    fn shell_request(&mut self, m: &Message) -> Handled {
        let t = self.t.clone();
        t.publish(Some(m), "status", json!({ "execution_state": "busy" }));
        let mut handled = Handled::Done;
        let reply = |msg_type: &str, content: Value| t.reply(Channel::Shell, m, msg_type, content);
        match m.msg_type() {
            "kernel_info_request" => reply("kernel_info_reply", kernel_info()),
            "execute_request" => self.execute(m),
            "is_complete_request" => reply("is_complete_reply", is_complete(&m.content)),
            "complete_request" => reply("complete_reply", self.complete(&m.content)),
            "inspect_request" => reply("inspect_reply", self.inspect(&m.content)),
            "history_request" => reply("history_reply", self.history_reply(&m.content)),
            "comm_info_request" => reply("comm_info_reply", json!({ "status": "ok", "comms": {} })),
            "comm_open" => {
                // No comm targets: say at once that this one is closed.
                let id = m.content["comm_id"].clone();
                t.publish(Some(m), "comm_close", json!({ "comm_id": id, "data": {} }));
            }
            // Messages on comms that never opened: nothing to answer.
            "comm_msg" | "comm_close" => {}
            "shutdown_request" => {
                handled = Handled::Stop;
                reply("shutdown_reply", shutdown_content(m));
            }
            other => unknown(&t, Channel::Shell, m, other),
        }
        t.publish(Some(m), "status", json!({ "execution_state": "idle" }));
        handled
    }

    fn execute(&mut self, m: &Message) {
        let c = &m.content;
        let code = c["code"].as_str().unwrap_or_default();
        let silent = c["silent"].as_bool().unwrap_or(false);
        let store = !silent && c["store_history"].as_bool().unwrap_or(true);
        if store {
            self.count += 1;
        }
        let count = self.count;
        let t = self.t.clone();
        if !silent {
            t.publish(
                Some(m),
                "execute_input",
                json!({ "code": code, "execution_count": count }),
            );
        }
        let name = format!("cell {count}");
        let (r, failure) = match magic::split(code) {
            Ok((magics, code)) => {
                for said in magics.iter().map(|mg| self.magic(mg)) {
                    if !silent {
                        t.publish(Some(m), "stream", json!({ "name": "stdout", "text": said }));
                    }
                }
                let r = self.run(m, &name, &code, silent);
                let failure = outputs::failure(&r);
                (r, failure)
            }
            Err(bad) => (
                ChunkResult::default(),
                Some(outputs::report_failure(&magic_error(&name, code, bad))),
            ),
        };
        let mut output = None;
        let content = match &failure {
            Some(f) => {
                if !silent {
                    t.publish(Some(m), "error", f.content());
                }
                let mut content = f.content();
                content["status"] = "error".into();
                content["execution_count"] = count.into();
                content["user_expressions"] = json!({});
                content["payload"] = json!([]);
                content
            }
            None => {
                if let Some(o) = outputs::value(&r, count) {
                    output = r.value.clone();
                    if !silent {
                        t.publish(Some(m), o.msg_type, o.content);
                    }
                }
                json!({
                    "status": "ok",
                    "execution_count": count,
                    "user_expressions": self.user_expressions(&c["user_expressions"]),
                    "payload": [],
                })
            }
        };
        if store {
            self.history.push(Entry {
                line: count,
                input: code.to_string(),
                output,
            });
        }
        // Collected before the reply, so that only cells sent before the failure was known
        // are skipped; answered after it, in order.
        let skipped = if failure.is_some() && c["stop_on_error"].as_bool().unwrap_or(true) {
            self.take_queued_cells()
        } else {
            Vec::new()
        };
        t.reply(Channel::Shell, m, "execute_reply", content);
        for q in &skipped {
            abort(&t, q);
        }
    }

    /// As IPython does: cells already queued behind a failed one (a "run all") are not run;
    /// other requests wait their turn.
    fn take_queued_cells(&mut self) -> Vec<Message> {
        let mut cells = Vec::new();
        while let Ok(w) = self.work.try_recv() {
            match w {
                Work::Shell(frames) => match self.t.decode(Channel::Shell, frames) {
                    Some(q) if q.msg_type() == "execute_request" => cells.push(q),
                    Some(q) => self.deferred.push_back(Work::Decoded(q)),
                    None => {}
                },
                other => self.deferred.push_back(other),
            }
        }
        cells
    }

    /// Runs a cell's code, sending each statement's outputs as it ends.
    fn run(&mut self, m: &Message, name: &str, code: &str, silent: bool) -> ChunkResult {
        let t = self.t.clone();
        let trace = self.session.options_mut().trace;
        let progress = self.progress.clone();
        lock(&progress).parent = (!silent).then(|| m.clone());
        let interrupt = self.session.interrupt_handle();
        let r = self.session.execute_with(name, code, &mut |step| {
            lock(&progress).finish(&t, !interrupt.is_set());
            if !silent {
                for o in outputs::step(step, trace) {
                    t.publish(Some(m), o.msg_type, o.content);
                }
            }
        });
        {
            let mut p = lock(&self.progress);
            p.finish(&t, false);
            p.parent = None;
        }
        if !silent {
            if let Some(w) = outputs::warnings(&r) {
                t.publish(Some(m), w.msg_type, w.content);
            }
        }
        r
    }

    /// Does what a magic line says; returns what to tell the notebook.
    fn magic(&mut self, magic: &Magic) -> &'static str {
        let opts = self.session.options_mut();
        match magic {
            Magic::Trace(on) => {
                // As the REPL's `:trace off`: events are then not even collected.
                opts.trace = *on;
                if *on {
                    "trace on: each statement shows what the MMU and the OS did\n"
                } else {
                    "trace off: only what statements print, show and evaluate\n"
                }
            }
            Magic::TraceStatus if opts.trace => "the trace is on\n",
            Magic::TraceStatus => "the trace is off\n",
        }
    }

    /// Each user expression evaluated without changing anything.
    fn user_expressions(&mut self, exprs: &Value) -> Value {
        let mut out = Map::new();
        let Some(exprs) = exprs.as_object() else {
            return json!({});
        };
        for (key, expr) in exprs {
            let src = expr.as_str().unwrap_or_default();
            let r = self
                .session
                .evaluate(&format!("user expression {key}"), src);
            let v = match (outputs::failure(&r), &r.value) {
                (Some(f), _) => {
                    let mut v = f.content();
                    v["status"] = "error".into();
                    v
                }
                (None, value) => json!({
                    "status": "ok",
                    "data": { "text/plain": value.clone().unwrap_or_else(|| "none".into()) },
                    "metadata": {},
                }),
            };
            out.insert(key.clone(), v);
        }
        Value::Object(out)
    }

    fn complete(&self, c: &Value) -> Value {
        let code = c["code"].as_str().unwrap_or_default();
        let cursor = byte_at(code, c["cursor_pos"].as_u64().unwrap_or(u64::MAX));
        let line_start = code[..cursor].rfind('\n').map_or(0, |i| i + 1);
        let line_end = code[cursor..].find('\n').map_or(code.len(), |i| cursor + i);
        let line = &code[line_start..line_end];
        let vars = self.session.variables();
        let (start, matches) = match magic::complete(&line[..cursor - line_start]) {
            Some(m) => m,
            None => complete::complete(line, cursor - line_start, &vars),
        };
        let cursor_start = chars_to(code, line_start + start.min(cursor - line_start));
        let cursor_end = chars_to(code, cursor);
        // JupyterLab shows each match's kind and, for a builtin, its usage beside it.
        let types: Vec<Value> = matches
            .iter()
            .map(|m| {
                json!({
                    "start": cursor_start,
                    "end": cursor_end,
                    "text": m,
                    "type": complete::kind(m, &vars),
                    "signature": complete::signature(m).unwrap_or(""),
                })
            })
            .collect();
        json!({
            "status": "ok",
            "matches": matches,
            "cursor_start": cursor_start,
            "cursor_end": cursor_end,
            "metadata": { "_jupyter_types_experimental": types },
        })
    }

    fn inspect(&mut self, c: &Value) -> Value {
        let code = c["code"].as_str().unwrap_or_default();
        let cursor = byte_at(code, c["cursor_pos"].as_u64().unwrap_or(u64::MAX));
        let text = word_at(code, cursor).and_then(|w| self.explain(w));
        match text {
            Some(t) => json!({
                "status": "ok",
                "found": true,
                "data": { "text/plain": t },
                "metadata": {},
            }),
            None => json!({ "status": "ok", "found": false, "data": {}, "metadata": {} }),
        }
    }

    /// What `:help` says about a word, or a variable's type and value; a counter's help
    /// with its value now.
    fn explain(&mut self, word: &str) -> Option<String> {
        if let (Some(ty), Some(v)) = (
            self.session.variable_type(word),
            self.session.variable(word),
        ) {
            return Some(format!("{word}: {ty} = {v}\n"));
        }
        let text = help::about(word)?;
        if word.starts_with("stats.") {
            if let Some(v) = self.session.evaluate("inspect", word).value {
                return Some(format!("{word} = {v} now\n\n{text}"));
            }
        }
        Some(text)
    }

    fn history_reply(&self, c: &Value) -> Value {
        let output = c["output"].as_bool().unwrap_or(false);
        let n = c["n"].as_u64().map(|n| n as usize);
        let picked: Vec<&Entry> = match c["hist_access_type"].as_str().unwrap_or("tail") {
            "range" => {
                let start = c["start"].as_u64().unwrap_or(0);
                let stop = c["stop"].as_u64().unwrap_or(u64::MAX);
                // Session numbers: this one, by number or as 0 (IPython's "current").
                let session = c["session"].as_i64().unwrap_or(0);
                if session == 0 || session == HISTORY_SESSION as i64 {
                    self.history
                        .iter()
                        .filter(|e| e.line >= start && e.line < stop)
                        .collect()
                } else {
                    Vec::new()
                }
            }
            "search" => {
                let pattern = c["pattern"].as_str().unwrap_or("*");
                let unique = c["unique"].as_bool().unwrap_or(false);
                let mut hits: Vec<&Entry> = Vec::new();
                for e in self.history.iter().rev() {
                    if glob(pattern, &e.input)
                        && !(unique && hits.iter().any(|h| h.input == e.input))
                    {
                        hits.push(e);
                    }
                }
                if let Some(n) = n {
                    hits.truncate(n);
                }
                hits.reverse();
                hits
            }
            _ => {
                let n = n.unwrap_or(self.history.len()).min(self.history.len());
                self.history[self.history.len() - n..].iter().collect()
            }
        };
        let history: Vec<Value> = picked
            .iter()
            .map(|e| {
                if output {
                    json!([HISTORY_SESSION, e.line, [e.input, e.output]])
                } else {
                    json!([HISTORY_SESSION, e.line, e.input])
                }
            })
            .collect();
        json!({ "status": "ok", "history": history })
    }
}

/// A magic line the kernel does not know, as a report on the cell.
fn magic_error(name: &str, cell: &str, bad: BadMagic) -> miette::Report {
    let len = bad.line.len() + 1;
    miette::Report::new(KernelError::Magic {
        line: bad.line,
        span: (bad.at, len).into(),
    })
    .with_source_code(miette::NamedSource::new(name, cell.to_string()))
}

/// `is_complete_reply`: an open bracket or a trailing `\` wants more lines, a syntax error is
/// invalid.
pub fn is_complete(c: &Value) -> Value {
    let code = c["code"].as_str().unwrap_or_default();
    let Ok((_, stripped)) = magic::split(code) else {
        return json!({ "status": "invalid" });
    };
    let code = stripped.as_str();
    if input::needs_more(code) {
        let depth = input::open_brackets(code).max(0) as usize;
        let line = code.rsplit('\n').next().unwrap_or("");
        let current = line.len() - line.trim_start().len();
        let indent = if line.trim_end().ends_with('\\') {
            current
        } else {
            current.max(4 * depth)
        };
        return json!({ "status": "incomplete", "indent": " ".repeat(indent) });
    }
    match crate::syntax::parse(code) {
        Ok(_) => json!({ "status": "complete" }),
        Err(_) => json!({ "status": "invalid" }),
    }
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The byte offset of code point `pos` (Jupyter counts cursors in code points).
fn byte_at(code: &str, pos: u64) -> usize {
    code.char_indices()
        .nth(pos.min(usize::MAX as u64) as usize)
        .map_or(code.len(), |(i, _)| i)
}

/// How many code points come before byte `at`.
fn chars_to(code: &str, at: usize) -> usize {
    code[..at.min(code.len())].chars().count()
}

/// The word (letters, digits, `_`, `.`) around byte `cursor`.
fn word_at(code: &str, cursor: usize) -> Option<&str> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let start = code[..cursor].rfind(|c: char| !is_word(c)).map_or(0, |i| {
        i + code[i..].chars().next().map_or(1, char::len_utf8)
    });
    let end = code[cursor..]
        .find(|c: char| !is_word(c))
        .map_or(code.len(), |i| cursor + i);
    let w = code[start..end].trim_matches('.');
    (!w.is_empty()).then_some(w)
}

/// Shell-style glob matching as IPython's history search does it: `*` any run, `?` one
/// character.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_sets_every_limit() {
        let vars = [
            ("MEMSIM_MAX_STEPS", "1_000"),
            ("MEMSIM_MAX_EVENTS", "8"),
            ("MEMSIM_MAX_SOURCE", "4096"),
            ("MEMSIM_MAX_LINE", "100"),
            ("MEMSIM_MAX_DEPTH", "50"),
            ("MEMSIM_MAX_PROCESSES", "16"),
            ("MEMSIM_MAX_TRACE_LINE", "256"),
            ("MEMSIM_MAX_MEMORY", "64 MiB"),
            ("MEMSIM_TIMEOUT", "30s"),
            ("MEMSIM_PROGRESS_AFTER", "250ms"),
            ("MEMSIM_ROOT", "/srv/class"),
        ];
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        let mut warnings = Vec::new();
        let o = env_limits(&get, &mut |w| warnings.push(w));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(o.max_steps, 1000);
        assert_eq!(o.events_per_step, 8);
        assert_eq!(o.max_source_bytes, 4096);
        assert_eq!(o.max_line_bytes, 100);
        assert_eq!(o.max_depth, 50);
        assert_eq!(o.max_processes, 16);
        assert_eq!(o.max_trace_line, 256);
        assert_eq!(o.max_host_bytes, 64 << 20);
        assert_eq!(o.timeout, Some(Duration::from_secs(30)));
        assert_eq!(o.progress_after, Duration::from_millis(250));
        assert_eq!(o.root.as_deref(), Some(std::path::Path::new("/srv/class")));
    }

    #[test]
    fn progress_can_show_from_the_start() {
        let get = |k: &str| (k == "MEMSIM_PROGRESS_AFTER").then(|| "0s".to_string());
        let mut warnings = Vec::new();
        let o = env_limits(&get, &mut |w| warnings.push(w));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(o.progress_after, Duration::ZERO);
    }

    #[test]
    fn a_bad_value_in_the_environment_keeps_the_default_and_says_so() {
        let get = |k: &str| {
            (k == "MEMSIM_MAX_STEPS" || k == "MEMSIM_MAX_MEMORY").then(|| "lots".to_string())
        };
        let mut warnings = Vec::new();
        let o = env_limits(&get, &mut |w| warnings.push(w));
        assert_eq!(o.max_steps, crate::session::DEFAULT_MAX_STEPS);
        assert_eq!(o.max_host_bytes, crate::session::DEFAULT_MAX_HOST_BYTES);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn globs_match_as_in_a_shell() {
        assert!(glob("*", ""));
        assert!(glob("let *", "let p = malloc(40)"));
        assert!(glob("*malloc(?0)", "let p = malloc(40)"));
        assert!(!glob("let", "let p"));
        assert!(!glob("*free*", "let p = malloc(40)"));
        assert!(glob("a*b*c", "a--b--b--c"));
        assert!(
            glob("6 *", "6 * 7"),
            "a `*` in the text is matched by the pattern's `*`"
        );
    }

    #[test]
    fn completeness_follows_brackets_and_syntax() {
        let st = |code: &str| is_complete(&json!({ "code": code }))["status"].clone();
        assert_eq!(st("let p = malloc(40)"), "complete");
        assert_eq!(st("repeat 3 {"), "incomplete");
        assert_eq!(st("let x = 1 + \\"), "incomplete");
        assert_eq!(st("let = = 3"), "invalid");
        assert_eq!(
            is_complete(&json!({ "code": "repeat 3 {" }))["indent"],
            "    "
        );
    }

    #[test]
    fn counts_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(10_000_000), "10,000,000");
    }

    #[test]
    fn words_at_the_cursor() {
        assert_eq!(word_at("print stats.faults", 10), Some("stats.faults"));
        assert_eq!(word_at("malloc(40)", 3), Some("malloc"));
        assert_eq!(word_at("a + b", 2), None);
        assert_eq!(byte_at("é malloc", 2), 3);
        assert_eq!(chars_to("é malloc", 3), 2);
    }
}
