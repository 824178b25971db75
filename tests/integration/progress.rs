//! Progress reports: a long statement tells the front end how it is getting on, then that it
//! ended; a quick one says nothing.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use memsim::session::{Options, Session};
use memsim::session::{Progress, ProgressFn};

fn reports(src: &str, after: Duration) -> Vec<Progress> {
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = seen.clone();
    let mut s = Session::new(Options {
        progress: Some(ProgressFn(Arc::new(move |p: &Progress| {
            sink.lock().unwrap().push(p.clone());
        }))),
        progress_after: after,
        ..Options::default()
    });
    let r = s.execute("p.mem", src);
    assert_eq!(r.exit_code(), 0);
    let v = seen.lock().unwrap().clone();
    v
}

#[test]
fn a_long_statement_reports_progress_then_its_end() {
    let src = "let x = 0\nrepeat 10000 { x = x + 1 }\nexpect x == 10000\n";
    let got = reports(src, Duration::ZERO);
    assert!(got.len() >= 2, "{got:?}");
    let (last, rest) = got.split_last().unwrap();
    assert!(last.finished && last.line == 2, "{last:?}");
    assert!(rest
        .iter()
        .all(|p| !p.finished && p.line == 2 && p.steps > 0));
    // Steps only grow.
    assert!(rest.windows(2).all(|w| w[0].steps <= w[1].steps));
}

#[test]
fn a_replay_reports_how_many_references_are_done() {
    let refs: Vec<String> = (0..20000).map(|i| (i % 7).to_string()).collect();
    let src = format!("refs {}\n", refs.join(" "));
    let got = reports(&src, Duration::ZERO);
    assert!(
        got.iter()
            .any(|p| p.of.is_some_and(|(d, n)| n == 20000 && d > 0)),
        "{got:?}"
    );
    assert!(got.last().unwrap().finished);
}

#[test]
fn a_sweep_reports_as_one_statement() {
    let src = "let n = 1\nsweep seed in 0..=3 {\n    let x = 0\n    repeat 5000 { x = x + n }\n}\n";
    let got = reports(src, Duration::ZERO);
    let (last, rest) = got.split_last().expect("reports");
    assert!(last.finished && last.line == 2, "{last:?}");
    assert!(!rest.is_empty());
    // Every run reports for the sweep's line, with no count of its own to fill a bar.
    assert!(
        rest.iter()
            .all(|p| !p.finished && p.line == 2 && p.of.is_none()),
        "{rest:?}"
    );
    // The four runs share one budget: the last report counts more than one run's steps.
    assert!(rest.iter().any(|p| p.steps > 5000), "{rest:?}");
}

#[test]
fn a_quick_statement_reports_nothing() {
    assert!(reports(
        "let x = 1\nrepeat 10000 { x = x + 1 }\n",
        Duration::from_secs(3600)
    )
    .is_empty());
}

#[test]
fn an_interrupted_statement_reports_its_end_too() {
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = seen.clone();
    let stop: Arc<Mutex<Option<memsim::session::Interrupt>>> = Arc::default();
    let stopper = stop.clone();
    let mut s = Session::new(Options {
        progress: Some(ProgressFn(Arc::new(move |p: &Progress| {
            sink.lock().unwrap().push(p.clone());
            if let Some(i) = stopper.lock().unwrap().as_ref() {
                i.interrupt();
            }
        }))),
        progress_after: Duration::ZERO,
        ..Options::default()
    });
    *stop.lock().unwrap() = Some(s.interrupt_handle());
    let r = s.execute("p.mem", "let x = 0\nrepeat 100000000 { x = x + 1 }\n");
    assert!(r.stopped);
    let got = seen.lock().unwrap().clone();
    assert!(got.last().is_some_and(|p| p.finished), "{got:?}");
}
