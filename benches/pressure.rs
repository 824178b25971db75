//! Memory pressure: a 1,000,000-reference trace replayed with 10 frames under FIFO, LRU, CLOCK
//! and OPT through the whole simulated machine (TLB, page walk, fault handler, eviction), and a
//! hand-written minimal LRU loop over the same page numbers as the ceiling; and the parsing of
//! the same references written as valgrind lackey lines, which `trace "file"` does first (whole,
//! and streamed a chunk at a time as `trace` reads a file).
//!
//! The fault path on its own: `faults` cycles over N+1 pages with N frames, so that every
//! reference faults under FIFO, LRU and CLOCK, beside a hand-written minimal loop of each policy
//! (a page → frame table and the policy's own bookkeeping, nothing else) as its ceiling. The
//! references run twice: as a trace's (pages the replay maps as it goes) and as a `refs`
//! string's (a lean run).
//!
//! Before measuring, the hand-written loop's LRU fault count is checked against memsim's.
//!
//! Run: `CARGO_TARGET_DIR=/tmp/target-pressure cargo bench --bench pressure`; once, quickly, as
//! CI does (debug build, criterion's test mode): `cargo test --bench pressure`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use memsim::config::ScenarioConfig;
use memsim::events::EventSink;
use memsim::machine::{Access, Policy};
use memsim::session::replay::{parse_trace, replay, PageRef, TraceReader};
use memsim::session::World;

const REFS: usize = 1_000_000;
const FRAMES: u64 = 10;
const PAGES: u64 = 64;
const BASE: u64 = 0x1000_0000;

/// A trace with locality, as programs have: mostly within a window of 8 pages that moves now
/// and then (one reference in 4096 on average) across 64 pages; one reference in four a store.
/// Deterministic (xorshift). About 1.4 % of references fault.
fn trace() -> Vec<PageRef> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut window = 0u64;
    (0..REFS)
        .map(|_| {
            let r = next();
            if r % 4096 == 0 {
                window = (r >> 8) % (PAGES - 8);
            }
            let page = window + (r >> 20) % 8;
            let access = if (r >> 40) % 4 == 0 {
                Access::Write
            } else {
                Access::Read
            };
            PageRef {
                addr: BASE + page * 4096 + (r >> 44) % 4096,
                access,
            }
        })
        .collect()
}

fn world(policy: Policy) -> (World, usize) {
    let mut cfg = ScenarioConfig::default_x86_64();
    cfg.machine.memory = FRAMES * 4096;
    cfg.machine.swap = 4 * PAGES * 4096;
    cfg.machine.replace = policy;
    let mut w = World::new(&cfg);
    let p = w.current().expect("the default layout fits x86-64");
    // Addresses the process does not map are pages of the traced program, as in `trace`.
    w.os.auto_map = true;
    // Every page written once first: the measured replay starts with all 64 pages dirty or
    // written back, as it always has, so numbers compare across versions.
    let warm: Vec<PageRef> = (0..PAGES)
        .map(|i| PageRef {
            addr: BASE + i * 4096,
            access: Access::Write,
        })
        .collect();
    let mut sink = EventSink::new(false, 0);
    replay(&mut w, p, &warm, &mut sink, |_, _| Ok::<(), ()>(())).expect("warm-up");
    (w, p)
}

/// The ceiling: the least a simulator can do per reference (a page → frame table and an LRU
/// list over frames, nothing else).
fn minimal_lru(refs: &[u64], frames: usize) -> u64 {
    const NIL: u32 = u32::MAX;
    let mut frame_of = vec![NIL; PAGES as usize];
    let mut page_of = vec![0u64; frames];
    let mut prev = vec![NIL; frames];
    let mut next = vec![NIL; frames];
    let (mut head, mut tail) = (NIL, NIL);
    let mut used = 0usize;
    let mut faults = 0;
    for &pg in refs {
        let f = frame_of[pg as usize];
        let f = if f != NIL {
            if f == tail {
                continue;
            }
            let (a, b) = (prev[f as usize], next[f as usize]);
            if a == NIL {
                head = b;
            } else {
                next[a as usize] = b;
            }
            prev[b as usize] = a;
            f
        } else {
            faults += 1;
            let f = if used < frames {
                used += 1;
                (used - 1) as u32
            } else {
                let v = head;
                head = next[v as usize];
                prev[head as usize] = NIL;
                frame_of[page_of[v as usize] as usize] = NIL;
                v
            };
            page_of[f as usize] = pg;
            frame_of[pg as usize] = f;
            f
        };
        prev[f as usize] = tail;
        next[f as usize] = NIL;
        if tail == NIL {
            head = f;
        } else {
            next[tail as usize] = f;
        }
        tail = f;
    }
    faults
}

/// The ceiling is only a ceiling if it does the same work: its fault count over the trace must
/// be memsim's under LRU, so a bench run (`--test` included) fails when either drifts.
fn check_ceiling_agrees(refs: &[PageRef]) {
    let (mut w, p) = world(Policy::Lru);
    let before = w.stats().faults;
    let mut sink = EventSink::new(false, 0);
    replay(&mut w, p, refs, &mut sink, |_, _| Ok::<(), ()>(())).expect("replay");
    let memsim = w.stats().faults - before;
    // The same warm-up first: every page once, in order, so both start with the same frames.
    let pages: Vec<u64> = (0..PAGES)
        .chain(refs.iter().map(|r| (r.addr - BASE) >> 12))
        .collect();
    let ceiling = minimal_lru(&pages, FRAMES as usize) - PAGES;
    assert_eq!(
        memsim, ceiling,
        "memsim's LRU and the hand-written loop disagree on the trace's faults"
    );
}

fn bench(c: &mut Criterion) {
    let refs = trace();
    check_ceiling_agrees(&refs);
    let mut g = c.benchmark_group("pressure");
    g.throughput(Throughput::Elements(REFS as u64));
    g.sample_size(10);
    for policy in [Policy::Fifo, Policy::Lru, Policy::Clock, Policy::Opt] {
        g.bench_function(format!("trace_1M_10_frames_{}", policy.name()), |b| {
            b.iter_batched(
                || world(policy),
                |(mut w, p)| {
                    let mut sink = EventSink::new(false, 0);
                    replay(&mut w, p, &refs, &mut sink, |_, _| Ok::<(), ()>(())).expect("replay");
                    w
                },
                BatchSize::LargeInput,
            )
        });
    }
    let pages: Vec<u64> = refs.iter().map(|r| (r.addr - BASE) >> 12).collect();
    // What `trace "file"` does first: the same references as valgrind lackey lines (one in
    // five an instruction fetch), parsed into page references.
    let lackey: String = refs
        .iter()
        .enumerate()
        .map(|(i, r)| match (i % 5, r.access) {
            (0, _) => format!("I  {:08x},4\n", r.addr),
            (_, Access::Write) => format!(" S {:08x},8\n", r.addr),
            _ => format!(" L {:08x},8\n", r.addr),
        })
        .collect();
    g.bench_function("parse_trace_1M_lackey_lines", |b| {
        b.iter(|| parse_trace(std::hint::black_box(&lackey), 4096).expect("parses"))
    });
    // What `trace "file"` does now: the same lines read in blocks from a reader, a chunk of
    // references at a time.
    g.bench_function("stream_trace_1M_lackey_lines", |b| {
        b.iter(|| {
            let mut r = TraceReader::new(std::hint::black_box(lackey.as_bytes()), 4096);
            let mut n = 0;
            while let Some(refs) = r.next_refs().expect("parses") {
                n += refs.len();
            }
            n
        })
    });
    g.bench_function("minimal_lru_loop_ceiling", |b| {
        b.iter(|| minimal_lru(std::hint::black_box(&pages), FRAMES as usize))
    });
    g.finish();
}

/// A machine as a `refs` statement finds it: the process's reference region mapped (pages
/// `0..PAGES` of its own file, at the returned address), nothing in memory. Its replays are
/// lean runs.
fn refs_world(policy: Policy) -> (World, usize, u64) {
    let mut cfg = ScenarioConfig::default_x86_64();
    cfg.machine.memory = FRAMES * 4096;
    cfg.machine.replace = policy;
    let mut w = World::new(&cfg);
    let p = w.current().expect("the default layout fits x86-64");
    let base =
        w.os.refs_region(p, PAGES)
            .expect("room for the reference region");
    (w, p, base)
}

/// References that all fault: pages 0..=FRAMES from `base` in a cycle, a store every fourth.
fn cycle(n: usize, base: u64) -> Vec<PageRef> {
    (0..n)
        .map(|i| PageRef {
            addr: base + (i as u64 % (FRAMES + 1)) * 4096,
            access: if i % 4 == 0 {
                Access::Write
            } else {
                Access::Read
            },
        })
        .collect()
}

/// The ceilings of the fault bench: the least a simulator of each policy does per reference.
fn minimal(policy: Policy, pages: &[u64], frames: usize) -> u64 {
    const NIL: u32 = u32::MAX;
    if policy == Policy::Lru {
        return minimal_lru(pages, frames);
    }
    let mut frame_of = vec![NIL; PAGES as usize];
    let mut page_of = vec![u64::MAX; frames];
    let mut bit = vec![false; frames];
    let mut hand = 0usize;
    let mut faults = 0;
    for &pg in pages {
        let f = frame_of[pg as usize];
        if f != NIL {
            bit[f as usize] = true;
            continue;
        }
        faults += 1;
        if policy == Policy::Clock {
            while bit[hand] {
                bit[hand] = false;
                hand = (hand + 1) % frames;
            }
        }
        let v = hand;
        hand = (hand + 1) % frames;
        if page_of[v] != u64::MAX {
            frame_of[page_of[v] as usize] = NIL;
        }
        page_of[v] = pg;
        frame_of[pg as usize] = v as u32;
        bit[v] = true;
    }
    faults
}

fn faults(c: &mut Criterion) {
    const N: usize = 200_000;
    let refs = cycle(N, BASE);
    let pages: Vec<u64> = refs.iter().map(|r| (r.addr - BASE) >> 12).collect();
    let refs_base = refs_world(Policy::Fifo).2;
    let in_region = cycle(N, refs_base);
    let mut g = c.benchmark_group("faults");
    g.throughput(Throughput::Elements(N as u64));
    g.sample_size(10);
    for policy in [Policy::Fifo, Policy::Lru, Policy::Clock] {
        assert_eq!(minimal(policy, &pages, FRAMES as usize), N as u64);
        g.bench_function(format!("every_ref_faults_{}", policy.name()), |b| {
            b.iter_batched(
                || world(policy),
                |(mut w, p)| {
                    let mut sink = EventSink::new(false, 0);
                    replay(&mut w, p, &refs, &mut sink, |_, _| Ok::<(), ()>(())).expect("replay");
                    w
                },
                BatchSize::LargeInput,
            )
        });
        // The same references as a `refs` string: a lean run.
        g.bench_function(format!("every_ref_faults_{}_refs", policy.name()), |b| {
            b.iter_batched(
                || refs_world(policy),
                |(mut w, p, _)| {
                    let mut sink = EventSink::new(false, 0);
                    replay(&mut w, p, &in_region, &mut sink, |_, _| Ok::<(), ()>(()))
                        .expect("replay");
                    assert_eq!(w.os.procs[p].stats.major, N as u64);
                    w
                },
                BatchSize::LargeInput,
            )
        });
        g.bench_function(format!("minimal_{}_loop_ceiling", policy.name()), |b| {
            b.iter(|| minimal(policy, std::hint::black_box(&pages), FRAMES as usize))
        });
    }
    g.finish();
}

criterion_group!(benches, bench, faults);
criterion_main!(benches);
