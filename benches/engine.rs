//! Criterion benchmarks of the engine: parse throughput, the MMU hot path under a `for` loop, a
//! file of many top-level statements (run time must grow linearly with their number), and one
//! REPL line or notebook cell in a session that lives on.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use memsim::session::{Options, Session};

/// A realistic scenario file, repeated to about 1 MiB.
fn corpus() -> String {
    let unit = r#"# a scenario of the kind students write
machine { page_size 4 KiB; memory 64 MiB; tlb 64 entries lru }
let ip: *int = malloc(sizeof(int) * 10)
ip[0] = 7
expect ip[0] == 7
expect segfault { ip[100000] = 99 }
for i in 0..10 { ip[i] = i * i }
let q: *long = calloc(16, 8)
q = realloc(q, 4000)
write q[0..4 KiB] step 512 B = 1
expect stats.faults >= 2 && stats.minor > 0
print getpagesize(), heap.start, brk - heap.start
show maps
"#;
    unit.repeat((1 << 20) / unit.len() + 1)
}

fn parse(c: &mut Criterion) {
    let src = corpus();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(src.len() as u64));
    g.bench_function("1 MiB of scenarios", |b| {
        b.iter(|| memsim::syntax::parse(std::hint::black_box(&src)).expect("parses"))
    });
    g.finish();

    // Bulk data: one `refs` statement of a million page numbers (80 % of them to 20 hot pages,
    // a fifth of them writes), as a page-replacement exercise generates.
    let mut refs = String::from("refs");
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..1_000_000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let page = if x % 10 < 8 {
            x % 20
        } else {
            20 + (x >> 8) % 80
        };
        refs.push_str(&format!(
            " {page}{}",
            if (x >> 20).is_multiple_of(5) { "w" } else { "" }
        ));
    }
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(refs.len() as u64));
    g.bench_function("refs of 1,000,000 numbers", |b| {
        b.iter(|| memsim::syntax::parse(std::hint::black_box(&refs)).expect("parses"))
    });
    g.finish();
}

fn accesses(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let mut g = c.benchmark_group("mmu");
    // Each iteration is one store and one load: 2 accesses.
    g.throughput(Throughput::Elements(2 * N));
    g.sample_size(20);
    let body = format!("for i in 0..{N} {{ p[i & 16383] = i\n let x = p[(i * 7) & 16383] }}\n");
    run_loop(&mut g, "for loop, store + load, trace off", &body, true);
    // The same loop on the tree walker alone: what the compiled loops are worth.
    run_loop(
        &mut g,
        "for loop, store + load, trace off, tree walker",
        &body,
        false,
    );
    // The plainest loop: one store per iteration, walking an array page after page.
    g.throughput(Throughput::Elements(N));
    let body = format!("for i in 0..{N} {{ p[i & 16383] = i }}\n");
    run_loop(
        &mut g,
        "for loop, sequential stores, trace off",
        &body,
        true,
    );
    run_loop(
        &mut g,
        "for loop, sequential stores, trace off, tree walker",
        &body,
        false,
    );
    g.finish();
}

/// Times `body` in a fresh session that has `p`, a 64 KiB array, already allocated; its loops
/// compiled or all on the tree walker.
fn run_loop(
    g: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>,
    name: &str,
    body: &str,
    compile_loops: bool,
) {
    g.bench_function(name, |b| {
        b.iter_batched(
            || {
                let mut s = Session::new(Options {
                    trace: false,
                    compile_loops,
                    ..Options::default()
                });
                let r = s.execute("setup.mem", "let p: *int = malloc(64 KiB)\n");
                assert_eq!(r.exit_code(), 0);
                s
            },
            |mut s| {
                let r = s.execute("loop.mem", body);
                assert_eq!(r.exit_code(), 0);
            },
            criterion::BatchSize::LargeInput,
        )
    });
}

/// Files of 25,000 and 100,000 top-level statements, traced as `memsim run` does: parsing,
/// checking, running and naming each statement's line. Linear time: the same per statement.
fn statements(c: &mut Criterion) {
    let mut g = c.benchmark_group("statements");
    g.sample_size(10);
    for n in [25_000u64, 100_000] {
        let mut src = String::from("let x = 0\n");
        for _ in 0..n {
            src.push_str("x = x + 1\n");
        }
        src.push_str(&format!("expect x == {n}\n"));
        g.throughput(Throughput::Elements(n));
        g.bench_function(
            format!("{}k top-level statements, trace on", n / 1000),
            |b| {
                b.iter(|| {
                    let mut s = Session::new(Options::default());
                    let r = s.execute("many.mem", std::hint::black_box(&src));
                    assert_eq!(r.exit_code(), 0);
                    r.steps.len()
                })
            },
        );
    }
    g.finish();
}

/// What a REPL line or a notebook cell costs the engine: a few statements executed in a session
/// that already ran cells before it (its heap, variables and history live on), with the trace
/// on, as the REPL and the kernel run them. Parsing, checking, running and the trace's text are
/// included; drawing tables and sending messages are the front ends' and are not.
fn cells(c: &mut Criterion) {
    let mut g = c.benchmark_group("cell");
    g.throughput(Throughput::Elements(1));
    let mut s = Session::new(Options::default());
    let setup = "let p: *int = malloc(4 KiB)\nlet n = 0\n";
    assert_eq!(s.execute("setup", setup).exit_code(), 0);
    let cell =
        "let q = malloc(100)\np[n & 1023] = n\nn = n + 1\nexpect p[(n - 1) & 1023] == n - 1\n\
                free(q)\nprint n, stats.faults\n";
    g.bench_function("a cell of six statements, trace on", |b| {
        b.iter(|| {
            let r = s.execute("cell", std::hint::black_box(cell));
            assert_eq!(r.exit_code(), 0);
            r.steps.len()
        })
    });
    g.finish();
}

criterion_group!(benches, parse, accesses, statements, cells);
criterion_main!(benches);
