//! The fuzzing campaign of rebatesim (`fuzz/run_campaign.sh` builds and runs it).
//!
//! ```text
//! cargo run --release --example fuzz_campaign -- [--seed S] [--count N] [--seconds T]
//!     [--timeout SECS] [--mem-mb MB] [--corpus DIR] [--findings DIR] [--json FILE] [--list]
//! ```
//!
//! Replays the committed corpus (`fuzz/corpus`), the special files (`/dev/zero`, ...) and then
//! `N` generated cases (or as many as fit in `T` seconds), in a child process that runs the
//! cases one after the other. Each case is classified:
//!
//! - `accepted`: the library returned `Ok` (and every output was produced);
//! - `clean_error`: the library returned an `Error` value;
//! - `panic`: a panic, caught by `catch_unwind` in the child;
//! - `hang`: the case ran longer than `--timeout` seconds (the child is killed);
//! - `over_memory`: the child's live heap would have passed `--mem-mb` (a counting global
//!   allocator refuses the allocation; Rust aborts with "memory allocation of N bytes failed");
//! - `crash`: the child died otherwise (a signal, an abort).
//!
//! After a hang or a death the parent starts a new child at the next case. Every finding is
//! written under `--findings` (default `fuzz/findings`, not committed) as a corpus entry that
//! `cargo run --example fuzz_campaign -- --corpus DIR --count 0` replays. The counts table is
//! printed at the end (and written as JSON with `--json`); `--list` prints every case's outcome.

#[path = "targets.rs"]
mod targets;

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use targets::{Case, Outcome, Target};

// ------------------------------------------------------------------------------------------
// A counting allocator: refuses an allocation that would take the live heap above CAP.

struct Counting;
static USED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static CAP: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Set when an allocation was refused (a case that then ends in an `Error` value, e.g. a
/// `read_to_string` whose `try_reserve` failed, still counts as over-memory).
static REFUSED: AtomicBool = AtomicBool::new(false);

fn grow(n: usize) -> bool {
    let now = USED.fetch_add(n, Relaxed) + n;
    if now > CAP.load(Relaxed) {
        USED.fetch_sub(n, Relaxed);
        REFUSED.store(true, Relaxed);
        return false;
    }
    PEAK.fetch_max(now, Relaxed);
    true
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if !grow(l.size()) {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.alloc(l) };
        if p.is_null() {
            USED.fetch_sub(l.size(), Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if !grow(l.size()) {
            return std::ptr::null_mut();
        }
        let p = unsafe { System.alloc_zeroed(l) };
        if p.is_null() {
            USED.fetch_sub(l.size(), Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) };
        USED.fetch_sub(l.size(), Relaxed);
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() && !grow(new - l.size()) {
            return std::ptr::null_mut();
        }
        let q = unsafe { System.realloc(p, l, new) };
        if q.is_null() {
            if new > l.size() {
                USED.fetch_sub(new - l.size(), Relaxed);
            }
        } else if new < l.size() {
            USED.fetch_sub(l.size() - new, Relaxed);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

// ------------------------------------------------------------------------------------------

struct Args {
    worker: bool,
    seed: u64,
    count: u64,
    seconds: Option<f64>,
    timeout: f64,
    mem_mb: usize,
    corpus: PathBuf,
    findings: PathBuf,
    json: Option<PathBuf>,
    from: u64,
    list: bool,
}

fn args() -> Args {
    let mut a = Args {
        worker: false,
        seed: 1,
        count: 2000,
        seconds: None,
        timeout: 10.0,
        mem_mb: 1024,
        corpus: targets::fuzz_dir().join("corpus"),
        findings: targets::fuzz_dir().join("findings"),
        json: None,
        from: 0,
        list: false,
    };
    let mut it = std::env::args().skip(1);
    let mut count_given = false;
    while let Some(k) = it.next() {
        let mut v = || {
            it.next()
                .unwrap_or_else(|| die(&format!("{k} needs a value")))
        };
        let num = |s: String| -> f64 {
            s.parse()
                .unwrap_or_else(|_| die(&format!("{k}: not a number: {s}")))
        };
        match k.as_str() {
            "--worker" => a.worker = true,
            "--list" => a.list = true,
            "--seed" => a.seed = num(v()) as u64,
            "--count" => {
                a.count = num(v()) as u64;
                count_given = true;
            }
            "--seconds" => a.seconds = Some(num(v())),
            "--timeout" => a.timeout = num(v()),
            "--mem-mb" => a.mem_mb = num(v()) as usize,
            "--corpus" => a.corpus = PathBuf::from(v()),
            "--findings" => a.findings = PathBuf::from(v()),
            "--json" => a.json = Some(PathBuf::from(v())),
            "--from" => a.from = num(v()) as u64,
            "--bench" => {} // cargo passes it to harness-less examples run as benches
            _ => die(&format!("unknown argument {k}")),
        }
    }
    if a.seconds.is_some() && !count_given {
        a.count = u64::MAX / 4;
    }
    a
}

fn die(msg: &str) -> ! {
    eprintln!("fuzz_campaign: {msg}");
    std::process::exit(2)
}

/// Case `i`: the corpus, then the special files, then generated cases.
fn case_at(a: &Args, fixed: &[Case], corpus: &[Case], i: u64) -> Case {
    if (i as usize) < fixed.len() {
        fixed[i as usize].clone()
    } else {
        targets::case(a.seed, i - fixed.len() as u64, corpus)
    }
}

fn fixed_cases(corpus: &[Case]) -> Vec<Case> {
    let mut v = corpus.to_vec();
    v.extend(targets::special_cases());
    v
}

fn worker(a: &Args) {
    targets::quiet_panics();
    let corpus = targets::load_corpus(&a.corpus);
    let fixed = fixed_cases(&corpus);
    CAP.store(a.mem_mb << 20, Relaxed);
    let total = fixed.len() as u64 + a.count;
    let out = std::io::stdout();
    let mut i = a.from;
    while i < total {
        let c = case_at(a, &fixed, &corpus, i);
        {
            let mut o = out.lock();
            writeln!(o, "B {i} {}", c.target.name()).ok();
            o.flush().ok();
        }
        let base = USED.load(Relaxed);
        PEAK.store(base, Relaxed);
        REFUSED.store(false, Relaxed);
        let t0 = Instant::now();
        let outcome = targets::run(&c);
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        let peak = PEAK.load(Relaxed).saturating_sub(base);
        let msg = match &outcome {
            Outcome::Accepted => String::new(),
            Outcome::CleanError(m) | Outcome::Panic(m) => {
                m.lines().next().unwrap_or("").chars().take(300).collect()
            }
        };
        let class = if REFUSED.load(Relaxed) {
            "over_memory"
        } else {
            outcome.class()
        };
        let mut o = out.lock();
        writeln!(o, "E {i} {class} {ms:.1} {peak} {msg}").ok();
        o.flush().ok();
        drop(o);
        i += 1;
    }
}

#[derive(Default)]
struct Row {
    tried: u64,
    accepted: u64,
    clean_error: u64,
    panic: u64,
    hang: u64,
    over_memory: u64,
    crash: u64,
    max_ms: f64,
    max_peak: usize,
}

struct Finding {
    class: &'static str,
    target: String,
    origin: String,
    message: String,
    saved: String,
}

enum Msg {
    Begin(u64),
    End(u64, String, f64, usize, String),
}

fn parent(a: &Args) {
    let corpus = targets::load_corpus(&a.corpus);
    let fixed = fixed_cases(&corpus);
    let total = fixed.len() as u64 + a.count;
    let exe = std::env::current_exe().unwrap();
    let t_start = Instant::now();
    let budget = a.seconds.map(Duration::from_secs_f64);
    let timeout = Duration::from_secs_f64(a.timeout);
    let mut rows: BTreeMap<Target, Row> = BTreeMap::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut next = a.from;
    let stderr_path =
        std::env::temp_dir().join(format!("rebatesim-fuzz-stderr-{}", std::process::id()));
    let mut out_of_time = false;
    eprintln!(
        "fuzz_campaign: seed {}, {} corpus + {} special cases, then {} generated; timeout {} s, heap cap {} MB",
        a.seed,
        corpus.len(),
        fixed.len() - corpus.len(),
        if a.seconds.is_some() && a.count > u64::MAX / 8 { "as many as fit".to_string() } else { a.count.to_string() },
        a.timeout,
        a.mem_mb
    );
    let record = |rows: &mut BTreeMap<Target, Row>,
                  findings: &mut Vec<Finding>,
                  i: u64,
                  class: &'static str,
                  ms: f64,
                  peak: usize,
                  msg: String| {
        let c = case_at(a, &fixed, &corpus, i);
        let row = rows.entry(c.target).or_default();
        row.tried += 1;
        row.max_ms = row.max_ms.max(ms);
        row.max_peak = row.max_peak.max(peak);
        match class {
            "accepted" => row.accepted += 1,
            "clean_error" => row.clean_error += 1,
            "panic" => row.panic += 1,
            "hang" => row.hang += 1,
            "over_memory" => row.over_memory += 1,
            _ => row.crash += 1,
        }
        if a.list {
            println!(
                "{i:>7} {:<13} {class:<12} {ms:>9.1} ms {:>8.1} MB  {}  {}",
                c.target.name(),
                peak as f64 / 1048576.0,
                c.origin,
                msg.chars().take(160).collect::<String>()
            );
        }
        if !matches!(class, "accepted" | "clean_error") {
            let saved = c
                .save(&a.findings.join(class), &format!("seed{}-case{i}", a.seed))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|e| format!("(not saved: {e})"));
            eprintln!(
                "  {class}: {} {} -> {saved}\n    {msg}",
                c.target.name(),
                c.origin
            );
            findings.push(Finding {
                class,
                target: c.target.name().into(),
                origin: c.origin.clone(),
                message: msg,
                saved,
            });
        }
    };
    while next < total && !out_of_time {
        let err = std::fs::File::create(&stderr_path).unwrap();
        let mut child = Command::new(&exe)
            .args([
                "--worker",
                "--seed",
                &a.seed.to_string(),
                "--count",
                &a.count.to_string(),
            ])
            .args([
                "--from",
                &next.to_string(),
                "--mem-mb",
                &a.mem_mb.to_string(),
            ])
            .arg("--corpus")
            .arg(&a.corpus)
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| die(&format!("cannot start the worker: {e}")));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut f = line.splitn(6, ' ');
                let kind = f.next().unwrap_or("");
                let i: u64 = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                let m = if kind == "B" {
                    Msg::Begin(i)
                } else {
                    let class = f.next().unwrap_or("").to_owned();
                    let ms = f.next().and_then(|s| s.parse().ok()).unwrap_or(0.0);
                    let peak = f.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                    Msg::End(i, class, ms, peak, f.next().unwrap_or("").to_owned())
                };
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        let mut inflight: Option<(u64, Instant)> = None;
        loop {
            if let Some(b) = budget {
                if t_start.elapsed() > b {
                    child.kill().ok();
                    child.wait().ok();
                    out_of_time = true;
                    break;
                }
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(Msg::Begin(i)) => inflight = Some((i, Instant::now())),
                Ok(Msg::End(i, class, ms, peak, msg)) => {
                    let class: &'static str = match class.as_str() {
                        "accepted" => "accepted",
                        "clean_error" => "clean_error",
                        "over_memory" => "over_memory",
                        _ => "panic",
                    };
                    record(&mut rows, &mut findings, i, class, ms, peak, msg);
                    inflight = None;
                    next = i + 1;
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some((i, t0)) = inflight {
                        if t0.elapsed() > timeout {
                            child.kill().ok();
                            child.wait().ok();
                            let ms = t0.elapsed().as_secs_f64() * 1e3;
                            record(
                                &mut rows,
                                &mut findings,
                                i,
                                "hang",
                                ms,
                                0,
                                format!("still running after {:.1} s", a.timeout),
                            );
                            next = i + 1;
                            break;
                        }
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait().ok();
                    if let Some((i, t0)) = inflight {
                        let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                        let last = stderr.lines().last().unwrap_or("").to_owned();
                        let class = if stderr.contains("memory allocation of") {
                            "over_memory"
                        } else {
                            "crash"
                        };
                        let ms = t0.elapsed().as_secs_f64() * 1e3;
                        record(
                            &mut rows,
                            &mut findings,
                            i,
                            class,
                            ms,
                            0,
                            format!("{status:?}: {last}"),
                        );
                        next = i + 1;
                    } else {
                        next = total; // the worker finished
                    }
                    break;
                }
            }
        }
    }
    std::fs::remove_file(&stderr_path).ok();

    // the counts table
    let mut tot = Row::default();
    println!(
        "\n{:<13} {:>8} {:>9} {:>12} {:>6} {:>6} {:>12} {:>6} {:>10} {:>10}",
        "target",
        "tried",
        "accepted",
        "clean_error",
        "panic",
        "hang",
        "over_memory",
        "crash",
        "max_ms",
        "max_heap_MB"
    );
    for (t, r) in &rows {
        println!(
            "{:<13} {:>8} {:>9} {:>12} {:>6} {:>6} {:>12} {:>6} {:>10.0} {:>10.1}",
            t.name(),
            r.tried,
            r.accepted,
            r.clean_error,
            r.panic,
            r.hang,
            r.over_memory,
            r.crash,
            r.max_ms,
            r.max_peak as f64 / 1048576.0
        );
        tot.tried += r.tried;
        tot.accepted += r.accepted;
        tot.clean_error += r.clean_error;
        tot.panic += r.panic;
        tot.hang += r.hang;
        tot.over_memory += r.over_memory;
        tot.crash += r.crash;
        tot.max_ms = tot.max_ms.max(r.max_ms);
        tot.max_peak = tot.max_peak.max(r.max_peak);
    }
    println!(
        "{:<13} {:>8} {:>9} {:>12} {:>6} {:>6} {:>12} {:>6} {:>10.0} {:>10.1}",
        "total",
        tot.tried,
        tot.accepted,
        tot.clean_error,
        tot.panic,
        tot.hang,
        tot.over_memory,
        tot.crash,
        tot.max_ms,
        tot.max_peak as f64 / 1048576.0
    );
    let anything_else = tot.panic + tot.hang + tot.over_memory + tot.crash;
    println!(
        "inputs tried {}, accepted {}, clean errors {}, anything else {} (seed {}, {:.0} s)",
        tot.tried,
        tot.accepted,
        tot.clean_error,
        anything_else,
        a.seed,
        t_start.elapsed().as_secs_f64()
    );
    if let Some(p) = &a.json {
        let rows_json: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(t, r)| {
                (t.name().to_string(), serde_json::json!({
                    "tried": r.tried, "accepted": r.accepted, "clean_error": r.clean_error,
                    "panic": r.panic, "hang": r.hang, "over_memory": r.over_memory, "crash": r.crash,
                    "max_ms": r.max_ms, "max_heap_bytes": r.max_peak,
                }))
            })
            .collect();
        let f: Vec<_> = findings
            .iter()
            .map(|f| serde_json::json!({"class": f.class, "target": f.target, "origin": f.origin, "message": f.message, "saved": f.saved}))
            .collect();
        let j = serde_json::json!({
            "seed": a.seed, "seconds": t_start.elapsed().as_secs_f64(), "timeout_s": a.timeout,
            "heap_cap_mb": a.mem_mb, "targets": rows_json, "findings": f,
            "total": {"tried": tot.tried, "accepted": tot.accepted, "clean_error": tot.clean_error, "anything_else": anything_else},
        });
        std::fs::write(p, serde_json::to_string_pretty(&j).unwrap())
            .unwrap_or_else(|e| die(&format!("{}: {e}", p.display())));
    }
    std::process::exit(if anything_else == 0 { 0 } else { 1 });
}

fn main() {
    let a = args();
    if a.worker {
        worker(&a);
    } else {
        parent(&a);
    }
}
