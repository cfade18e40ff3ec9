//! The fuzz targets of rebatesim, shared by the campaign driver (`fuzz/campaign.rs`, run by
//! `fuzz/run_campaign.sh`) and the deterministic replay in `cargo test` (`tests/fuzz_replay.rs`).
//!
//! A [`Case`] is one input: a target and its named parts (raw bytes, so non-UTF-8 input is
//! possible). A case comes from the committed corpus (`fuzz/corpus/TARGET/...`: a file for the
//! one-part targets, a folder of files for `settle` and `forecast`), from a structured
//! generator, or from mutating a corpus case; [`case`] builds case `i` of a campaign with seed
//! `s` deterministically, so that any finding is reproduced by its `(seed, index)` alone.
//!
//! [`run`] runs a case inside `catch_unwind` and classifies it: [`Outcome::Accepted`],
//! [`Outcome::CleanError`] (an [`rebatesim::Error`] value) or [`Outcome::Panic`]. Hangs and
//! allocations above a cap are classified by the campaign driver, which runs cases in a child
//! process with a time limit and a counting allocator.

#![allow(dead_code, clippy::nonminimal_bool)]

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rebatesim::data::{Partners, Transactions};
use rebatesim::demand::Model;
use rebatesim::forecast::{forecast, ForecastOptions};
use rebatesim::population::Population;
use rebatesim::programme::{Compiled, Format, Programme};
use rebatesim::settlement::settle;
use serde_json::{json, Map, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

type R = Xoshiro256PlusPlus;

thread_local! {
    static EXTREME: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Whether the generators on this thread use amounts in the range of the known Decimal
/// overflow class (near 7.9e28, 28 decimals) in otherwise valid settlements and forecasts.
/// On by default (the campaign); the cargo-test replay turns it off for its non-ignored tests.
pub fn set_extreme(on: bool) {
    EXTREME.with(|e| e.set(on));
}

fn extreme() -> bool {
    EXTREME.with(|e| e.get())
}

/// What a case drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A programme document (parts: one, named `programme.toml|json|yaml`) → parse → compile.
    Programme,
    /// A demand model document (`model.toml|json|yaml`) → parse → validate.
    Model,
    /// A partner table (`partners.csv`), read as settlement reads it.
    Partners,
    /// A transaction table (`transactions.csv`).
    Transactions,
    /// A partner table read as a simulation population (`population.csv`).
    Population,
    /// Programme + partners + transactions → settle → every output (JSON, CSV, explanations).
    Settle,
    /// Programme + population + model + actuals + options → forecast → its tables.
    Forecast,
}

impl Target {
    /// Every target, in a fixed order.
    pub const ALL: [Target; 7] = [
        Target::Programme,
        Target::Model,
        Target::Partners,
        Target::Transactions,
        Target::Population,
        Target::Settle,
        Target::Forecast,
    ];

    /// The corpus folder name.
    pub fn name(self) -> &'static str {
        match self {
            Target::Programme => "programme",
            Target::Model => "model",
            Target::Partners => "partners",
            Target::Transactions => "transactions",
            Target::Population => "population",
            Target::Settle => "settle",
            Target::Forecast => "forecast",
        }
    }

    /// The target of a corpus folder name.
    pub fn from_name(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s)
    }
}

/// One input.
#[derive(Debug, Clone)]
pub struct Case {
    /// What it drives.
    pub target: Target,
    /// Where it came from (a corpus path, or `gen:<kind>` / `mut:<seed name>`).
    pub origin: String,
    /// Named parts: file names (their extension gives the format) and raw bytes.
    pub parts: Vec<(String, Vec<u8>)>,
}

impl Case {
    fn part(&self, prefix: &str) -> Option<&(String, Vec<u8>)> {
        self.parts.iter().find(|(n, _)| n.starts_with(prefix))
    }

    /// Write the case as a corpus entry under `dir` (a file, or a folder of parts) and return
    /// its path.
    pub fn save(&self, dir: &Path, stem: &str) -> std::io::Result<PathBuf> {
        let dir = dir.join(self.target.name());
        std::fs::create_dir_all(&dir)?;
        if is_multi(self.target) {
            let d = dir.join(stem);
            std::fs::create_dir_all(&d)?;
            for (n, b) in &self.parts {
                std::fs::write(d.join(n), b)?;
            }
            Ok(d)
        } else {
            let (n, b) = &self.parts[0];
            let ext = Path::new(n)
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("txt");
            let p = dir.join(format!("{stem}.{ext}"));
            std::fs::write(&p, b)?;
            Ok(p)
        }
    }
}

fn is_multi(t: Target) -> bool {
    matches!(t, Target::Settle | Target::Forecast)
}

/// How a case ended (in process).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The library accepted the input (and every output of it was produced).
    Accepted,
    /// The library returned an `Error` value; its message.
    CleanError(String),
    /// A panic (caught); its message.
    Panic(String),
}

impl Outcome {
    /// `accepted`, `clean_error` or `panic`.
    pub fn class(&self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::CleanError(_) => "clean_error",
            Outcome::Panic(_) => "panic",
        }
    }
}

/// Silence the default panic message (the outcome carries it); call once per process.
pub fn quiet_panics() {
    std::panic::set_hook(Box::new(|_| {}));
}

/// Run `case` and classify the outcome.
pub fn run(case: &Case) -> Outcome {
    match catch_unwind(AssertUnwindSafe(|| run_inner(case))) {
        Ok(Ok(())) => Outcome::Accepted,
        Ok(Err(e)) => match catch_unwind(AssertUnwindSafe(|| e.to_string())) {
            Ok(m) => Outcome::CleanError(m),
            Err(p) => Outcome::Panic(format!("while formatting an error: {}", panic_text(&p))),
        },
        Err(p) => Outcome::Panic(panic_text(&p)),
    }
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

fn format_of(name: &str) -> Format {
    Format::from_path(Path::new(name)).unwrap_or(Format::Toml)
}

/// Read a document part the way `from_file` does: UTF-8 text, else an I/O error (through a
/// real file, so that the library's own path is exercised).
fn text_of(name: &str, bytes: &[u8]) -> rebatesim::Result<String> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_owned()),
        Err(_) => {
            let dir = std::env::temp_dir().join(format!("rebatesim-fuzz-{}", std::process::id()));
            std::fs::create_dir_all(&dir).ok();
            let p = dir.join(name);
            std::fs::write(&p, bytes).ok();
            let r = std::fs::read_to_string(&p).map_err(|e| rebatesim::Error::io(&p, e));
            std::fs::remove_file(&p).ok();
            r
        }
    }
}

fn programme_of(name: &str, bytes: &[u8]) -> rebatesim::Result<Compiled> {
    let text = text_of(name, bytes)?;
    let format = format_of(name);
    let p = Programme::from_str(&text, format, Some(name))?;
    let c = p.compile_located(&text, format, Some(name))?;
    // the round trip every writer of the file form goes through
    for f in [Format::Toml, Format::Json, Format::Yaml] {
        let _ = p.to_string(f)?;
    }
    Ok(c)
}

fn model_of(name: &str, bytes: &[u8]) -> rebatesim::Result<Model> {
    let text = text_of(name, bytes)?;
    let m = Model::from_str(&text, format_of(name), Some(name))?;
    let _ = m.to_string(Format::Toml)?;
    Ok(m)
}

fn population_of(name: &str, bytes: &[u8]) -> rebatesim::Result<Population> {
    let text = text_of(name, bytes)?;
    Population::from_csv_str(&text, name)
}

fn missing(what: &str) -> rebatesim::Error {
    rebatesim::Error::Request(format!("fuzz case has no {what} part"))
}

/// Options of a forecast case: `key = value` lines (`as_of`, `scenarios`, `seed`, `confidence`).
struct FcOpts {
    as_of: String,
    scenarios: usize,
    seed: u64,
    confidence: f64,
}

fn fc_opts(bytes: &[u8]) -> rebatesim::Result<FcOpts> {
    let text = String::from_utf8_lossy(bytes);
    let mut o = FcOpts {
        as_of: String::new(),
        scenarios: 4,
        seed: 1,
        confidence: 0.9,
    };
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let bad = |k: &str| rebatesim::Error::Request(format!("fuzz options: bad {k} {v:?}"));
        match k.trim() {
            "as_of" => o.as_of = v.to_owned(),
            "scenarios" => o.scenarios = v.parse().map_err(|_| bad("scenarios"))?,
            "seed" => o.seed = v.parse().map_err(|_| bad("seed"))?,
            "confidence" => o.confidence = v.parse().map_err(|_| bad("confidence"))?,
            _ => {}
        }
    }
    // the harness bounds the work it asks for (the library's own bounds are fuzzed elsewhere)
    o.scenarios = o.scenarios.min(64);
    Ok(o)
}

/// A part named `@NAME.EXT` holds a path (e.g. `/dev/zero`): the case reads it through the
/// library's file reader, under a link named `NAME.EXT` (the extension gives the format).
fn run_path(case: &Case, name: &str, path: &[u8]) -> rebatesim::Result<()> {
    let dir = std::env::temp_dir().join(format!("rebatesim-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok();
    let link = dir.join(name.trim_start_matches('@'));
    std::fs::remove_file(&link).ok();
    std::os::unix::fs::symlink(String::from_utf8_lossy(path).as_ref(), &link).ok();
    let r = match case.target {
        Target::Programme => Programme::from_file(&link).map(drop),
        Target::Model => Model::from_file(&link).map(drop),
        Target::Partners => Partners::from_csv_path(&link).map(drop),
        Target::Transactions => Transactions::from_csv_path(&link).map(drop),
        Target::Population => Population::from_csv_path(&link).map(drop),
        _ => Err(missing("path reader for this target")),
    };
    std::fs::remove_file(&link).ok();
    r
}

/// Cases that read special files through the library's path readers: `/dev/zero` (endless),
/// `/dev/null` (empty), a folder.
pub fn special_cases() -> Vec<Case> {
    let mut out = Vec::new();
    for (t, ext) in [
        (Target::Programme, "toml"),
        (Target::Model, "yaml"),
        (Target::Partners, "csv"),
        (Target::Transactions, "csv"),
        (Target::Population, "csv"),
    ] {
        for path in ["/dev/zero", "/dev/null", "/tmp"] {
            out.push(Case {
                target: t,
                origin: format!("special:{} {path}", t.name()),
                parts: vec![(format!("@{}.{ext}", t.name()), path.as_bytes().to_vec())],
            });
        }
    }
    out
}

fn run_inner(case: &Case) -> rebatesim::Result<()> {
    if let Some((n, b)) = case.parts.first().filter(|(n, _)| n.starts_with('@')) {
        return run_path(case, n, b);
    }
    match case.target {
        Target::Programme => {
            let (n, b) = case.part("programme").ok_or_else(|| missing("programme"))?;
            programme_of(n, b).map(drop)
        }
        Target::Model => {
            let (n, b) = case.part("model").ok_or_else(|| missing("model"))?;
            model_of(n, b).map(drop)
        }
        Target::Partners => {
            let (n, b) = case.part("partners").ok_or_else(|| missing("partners"))?;
            Partners::from_csv_reader(&b[..], n).map(drop)
        }
        Target::Transactions => {
            let (n, b) = case
                .part("transactions")
                .ok_or_else(|| missing("transactions"))?;
            Transactions::from_csv_reader(&b[..], n).map(drop)
        }
        Target::Population => {
            let (n, b) = case
                .part("population")
                .ok_or_else(|| missing("population"))?;
            population_of(n, b).map(drop)
        }
        Target::Settle => {
            let (pn, pb) = case.part("programme").ok_or_else(|| missing("programme"))?;
            let (an, ab) = case.part("partners").ok_or_else(|| missing("partners"))?;
            let (tn, tb) = case
                .part("transactions")
                .ok_or_else(|| missing("transactions"))?;
            let p = programme_of(pn, pb)?;
            let partners = Partners::from_csv_reader(&ab[..], an)?;
            let tx = Transactions::from_csv_reader(&tb[..], tn)?;
            let s = settle(&p, &partners, &tx)?;
            let _ = s.to_json()?;
            let _ = s.lines_csv()?;
            for t in s.by_partner().iter().take(5) {
                let _ = s.explain(&t.partner_id)?;
            }
            Ok(())
        }
        Target::Forecast => {
            let (pn, pb) = case.part("programme").ok_or_else(|| missing("programme"))?;
            let (an, ab) = case
                .part("population")
                .ok_or_else(|| missing("population"))?;
            let (mn, mb) = case.part("model").ok_or_else(|| missing("model"))?;
            let (tn, tb) = case.part("actuals").ok_or_else(|| missing("actuals"))?;
            let (_, ob) = case.part("options").ok_or_else(|| missing("options"))?;
            let p = programme_of(pn, pb)?;
            let pop = population_of(an, ab)?;
            let m = model_of(mn, mb)?;
            let actuals = Transactions::from_csv_reader(&tb[..], tn)?;
            let o = fc_opts(ob)?;
            let as_of = rebatesim::programme::values::parse_date(&o.as_of).ok_or_else(|| {
                rebatesim::Error::Request(format!("as_of: expected a date, found {:?}", o.as_of))
            })?;
            let opts = ForecastOptions {
                scenarios: o.scenarios,
                seed: o.seed,
                threads: 1,
                confidence: o.confidence,
                ..ForecastOptions::default()
            };
            let f = forecast(&p, &pop, &m, &actuals, as_of, &opts)?;
            let _ = f.estimates();
            let _ = f.journal();
            let _ = f.by_partner();
            let _ = f.by_component();
            let _ = f.cash_schedule();
            let _ = f.report();
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The corpus

/// The repository's `fuzz/` folder.
pub fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// Every case under `root` (`root/TARGET/entry`), in a fixed order.
pub fn load_corpus(root: &Path) -> Vec<Case> {
    let mut out = Vec::new();
    for t in Target::ALL {
        let dir = root.join(t.name());
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if let Some(c) = load_entry(t, &p) {
                out.push(c);
            }
        }
    }
    out
}

/// One corpus entry: a file (one-part targets) or a folder of parts.
pub fn load_entry(t: Target, p: &Path) -> Option<Case> {
    let origin = p.display().to_string();
    if p.is_dir() {
        let mut parts: Vec<(String, Vec<u8>)> = std::fs::read_dir(p)
            .ok()?
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .map(|e| {
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        parts.sort();
        Some(Case {
            target: t,
            origin,
            parts,
        })
    } else if p.is_file() {
        let name = p.file_name()?.to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".md") {
            return None;
        }
        let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("txt");
        let part = match t {
            Target::Programme => format!("programme.{ext}"),
            Target::Model => format!("model.{ext}"),
            _ => format!("{}.csv", t.name()),
        };
        Some(Case {
            target: t,
            origin,
            parts: vec![(part, std::fs::read(p).ok()?)],
        })
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Generation

/// Case `i` of a campaign with seed `seed` over `corpus`: a third structured, a third mutated
/// corpus entries, a third both (a structured case mutated), spread over the targets.
pub fn case(seed: u64, i: u64, corpus: &[Case]) -> Case {
    let mut r = R::seed_from_u64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let target = Target::ALL[r.random_range(0..Target::ALL.len())];
    let pool: Vec<&Case> = corpus.iter().filter(|c| c.target == target).collect();
    // settlements and forecasts: half of them generated and left whole, so that most reach
    // the calculation; the parsers: a third generated, two thirds mutated
    let whole = if is_multi(target) { 0.5 } else { 0.1 };
    let mode = r.random_range(0..3);
    let mut c = if mode == 0 || pool.is_empty() {
        generate(&mut r, target)
    } else {
        pool[r.random_range(0..pool.len())].clone()
    };
    if !(mode == 0 && r.random_bool(whole)) && !(is_multi(target) && r.random_bool(0.4)) {
        let c0 = c.origin.clone();
        mutate_case(&mut r, &mut c, corpus);
        c.origin = format!("mut:{c0}");
    }
    c.origin = format!("{} (seed {seed}, case {i})", c.origin);
    c
}

/// A structured case for `target`.
pub fn generate(r: &mut R, target: Target) -> Case {
    let (origin, parts) = match target {
        Target::Programme => {
            let valid = r.random_bool(0.5);
            let v = gen_programme(r, valid);
            ("gen:programme", vec![doc_part(r, "programme", &v)])
        }
        Target::Model => {
            let v = gen_model(r, &[]);
            ("gen:model", vec![doc_part(r, "model", &v)])
        }
        Target::Partners => {
            let p = gen_programme(r, true);
            (
                "gen:partners",
                vec![("partners.csv".into(), gen_partners(r, &p, 30).1)],
            )
        }
        Target::Population => {
            let p = gen_programme(r, true);
            (
                "gen:population",
                vec![("population.csv".into(), gen_partners(r, &p, 30).1)],
            )
        }
        Target::Transactions => {
            let p = gen_programme(r, true);
            let (ids, _) = gen_partners(r, &p, 10);
            (
                "gen:transactions",
                vec![(
                    "transactions.csv".into(),
                    gen_transactions(r, &p, &ids, 200, None),
                )],
            )
        }
        Target::Settle => {
            let p = valid_programme(r);
            let (ids, partners) = gen_partners(r, &p, 12);
            let tx = gen_transactions(r, &p, &ids, 300, None);
            (
                "gen:settle",
                vec![
                    doc_part(r, "programme", &p),
                    ("partners.csv".into(), partners),
                    ("transactions.csv".into(), tx),
                ],
            )
        }
        Target::Forecast => {
            let p = valid_programme(r);
            let (ids, pop) = gen_partners(r, &p, 5);
            let as_of = random_date_in(r, &p);
            let actuals = gen_transactions(r, &p, &ids, 40, Some(&as_of));
            let model = gen_model(r, &strings_of(&p, "categories"));
            let opts = format!(
                "as_of = {as_of}\nscenarios = {}\nseed = {}\nconfidence = {}\n",
                if r.random_bool(0.9) {
                    pick(r, &["1", "2", "4", "8"])
                } else {
                    pick(r, &["0", "-1", "x"])
                },
                r.random::<u32>(),
                if r.random_bool(0.8) {
                    pick(r, &["0.9", "0.5", "0.99", "1e-9"])
                } else {
                    pick(r, &["0", "1", "NaN", "-0.5"])
                },
            );
            (
                "gen:forecast",
                vec![
                    doc_part(r, "programme", &p),
                    ("population.csv".into(), pop),
                    doc_part(r, "model", &model),
                    ("actuals.csv".into(), actuals),
                    ("options.txt".into(), opts.into_bytes()),
                ],
            )
        }
    };
    Case {
        target,
        origin: origin.into(),
        parts,
    }
}

fn pick<'a>(r: &mut R, xs: &[&'a str]) -> &'a str {
    xs[r.random_range(0..xs.len())]
}

/// A document part in a random format.
fn doc_part(r: &mut R, stem: &str, v: &Value) -> (String, Vec<u8>) {
    loop {
        match r.random_range(0..3) {
            0 => {
                if let Ok(s) = toml::to_string(v) {
                    return (format!("{stem}.toml"), s.into_bytes());
                }
            }
            1 => {
                if let Ok(s) = serde_norway::to_string(v) {
                    return (format!("{stem}.yaml"), s.into_bytes());
                }
            }
            _ => {
                return (
                    format!("{stem}.json"),
                    serde_json::to_vec_pretty(v).unwrap(),
                )
            }
        }
    }
}

/// Decimal amounts a user might write, extremes included (as JSON numbers or strings).
const DECIMALS: &[&str] = &[
    "0",
    "1",
    "-1",
    "0.5",
    "2.5",
    "10",
    "100",
    "1000",
    "25000",
    "100000",
    "1000000",
    "0.01",
    "0.005",
    "-0.01",
    "99.999",
    "1e6",
    "1E-3",
    "79228162514264337593543950335",
    "-79228162514264337593543950335",
    "79228162514264337593543950336",
    "7.9e28",
    "39614081257132168796771975168",
    "0.0000000000000000000000000001",
    "0.00000000000000000000000000001",
    "1.2345678901234567890123456789",
    "1e-24",
    "1e28",
    "1e308",
    "1e400",
    "NaN",
    "inf",
    "-inf",
    "",
    " ",
    "abc",
    "1_000",
    "1,5",
    "0x10",
    "+5",
    "--1",
    "5%",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
];

/// Strings a user might write (ids, names, segments), hostile ones included.
const STRINGS: &[&str] = &[
    "P1",
    "P2",
    "P3",
    "INS-0001",
    "retail",
    "installer",
    "online",
    "cable",
    "",
    " ",
    "  x  ",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+cmd",
    "-1",
    "@SUM(A1)",
    "a,b",
    "\"q\"",
    "line\nbreak",
    "tab\there",
    "nul\u{0}byte",
    "ü€😀",
    "\u{202e}rtl",
    "\u{feff}bom",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "NaN",
    "null",
    "~",
    "true",
    "0",
    "components[0]",
    "a.b",
    "[x]",
];

fn interesting_decimal(r: &mut R) -> Value {
    let s = if r.random_bool(0.5) {
        pick(r, DECIMALS).to_owned()
    } else {
        // an ordinary amount, sometimes with many decimals
        let v: f64 = r.random_range(0.0..2_000_000.0);
        let dp = *[0usize, 2, 2, 4, 28].get(r.random_range(0..5)).unwrap();
        format!("{v:.dp$}")
    };
    decimal_value(r, &s)
}

fn decimal_value(r: &mut R, s: &str) -> Value {
    if r.random_bool(0.5) {
        if let Ok(i) = s.parse::<i64>() {
            return json!(i);
        }
        if let Ok(f) = s.parse::<f64>() {
            if f.is_finite() {
                return json!(f);
            }
        }
    }
    Value::String(s.to_owned())
}

fn sane_decimal(r: &mut R, lo: f64, hi: f64) -> Value {
    let v: f64 = r.random_range(lo..hi);
    json!((v * 100.0).round() / 100.0)
}

fn hostile_string(r: &mut R) -> String {
    match r.random_range(0..10) {
        0 => "x".repeat(r.random_range(1000..20_000)),
        1 => (0..r.random_range(1..20))
            .map(|_| char::from_u32(r.random_range(0..0x11_0000)).unwrap_or('?'))
            .collect(),
        _ => pick(r, STRINGS).to_owned(),
    }
}

const DATES: &[&str] = &[
    "2027-01-01",
    "2027-06-30",
    "2026-12-31",
    "2027-02-28",
    "2028-02-29",
    "2027-02-29",
    "2027-02-30",
    "2027-13-01",
    "0000-01-01",
    "0001-01-01",
    "9999-12-31",
    "9999-01-01",
    "10000-01-01",
    "+10000-01-01",
    "-0001-01-01",
    "1900-01-01",
    "1582-10-10",
    "2027/01/01",
    "01/02/2027",
    "2027-1-1",
    "",
    "today",
    "2027-01-01T00:00:00",
    "2027-01-01 12:00",
];

/// A programme as a value tree: `valid` keeps the shape and ranges a real programme has (with
/// extremes in amounts), otherwise anything goes in any field.
pub fn gen_programme(r: &mut R, valid: bool) -> Value {
    let wild = !valid;
    let mut m = Map::new();
    m.insert(
        "name".into(),
        Value::String(if r.random_bool(0.2) {
            hostile_string(r)
        } else {
            "Fuzz".into()
        }),
    );
    let currency = if wild && r.random_bool(0.3) {
        hostile_string(r)
    } else {
        pick(r, &["EUR", "USD", "JPY", "KWD", "CHF", "GBP"]).into()
    };
    m.insert("currency".into(), currency.into());
    if r.random_bool(0.2) {
        let d: i64 = if wild {
            *[0i64, 2, 3, 28, 29, 255, -1, 4294967296]
                .get(r.random_range(0..8))
                .unwrap()
        } else {
            r.random_range(0..5)
        };
        m.insert("decimals".into(), json!(d));
    }
    if r.random_bool(0.3) {
        m.insert(
            "rounding".into(),
            pick(r, &["half_up", "half_even", "down", "up", "bogus"]).into(),
        );
    }
    let start = if wild || r.random_bool(0.1) {
        pick(r, DATES).to_owned()
    } else {
        format!(
            "{}-{:02}-01",
            r.random_range(2020..2031),
            r.random_range(1..13)
        )
    };
    m.insert("start".into(), start.into());
    m.insert(
        "period".into(),
        pick(
            r,
            &[
                "month",
                "quarter",
                "half",
                "year",
                "quarter",
                "month",
                if wild { "week" } else { "year" },
            ],
        )
        .into(),
    );
    let periods: i64 = if wild && r.random_bool(0.5) {
        *[0i64, -1, 1000, 100_000, 4_294_967_295, 4_294_967_296]
            .get(r.random_range(0..6))
            .unwrap()
    } else {
        r.random_range(1..13)
    };
    m.insert("periods".into(), json!(periods));
    let segments: Vec<String> = if r.random_bool(0.7) {
        vec!["installer".into(), "retail".into()]
    } else {
        (0..r.random_range(0..4))
            .map(|_| hostile_string(r))
            .collect()
    };
    if !segments.is_empty() {
        m.insert("segments".into(), json!(segments));
    }
    let categories: Vec<String> = if r.random_bool(0.7) {
        vec!["cable".into(), "lighting".into()]
    } else {
        (0..r.random_range(0..4))
            .map(|_| hostile_string(r))
            .collect()
    };
    if !categories.is_empty() {
        m.insert("categories".into(), json!(categories));
    }
    for k in ["budget", "partner_cap", "minimum_payout"] {
        if r.random_bool(0.3) {
            let v = money(r, wild, 0.0, 5_000_000.0);
            m.insert(k.into(), v);
        }
    }
    if r.random_bool(0.5) {
        let lag: i64 = if wild {
            *[0i64, 45, 4_294_967_295, -1, 3_000_000]
                .get(r.random_range(0..5))
                .unwrap()
        } else {
            *[0i64, 30, 45, 90, 3_000_000]
                .get(r.random_range(0..5))
                .unwrap()
        };
        m.insert(
            "payment".into(),
            json!({"when": pick(r, &["period", "end"]), "lag_days": lag}),
        );
    }
    let n = if wild && r.random_bool(0.1) {
        r.random_range(0..40)
    } else {
        r.random_range(1..5)
    };
    let comps: Vec<Value> = (0..n)
        .map(|k| gen_component(r, k, &segments, &categories, wild))
        .collect();
    m.insert("components".into(), Value::Array(comps));
    if wild && r.random_bool(0.1) {
        m.insert(hostile_string(r), json!(1));
    }
    Value::Object(m)
}

fn money(r: &mut R, wild: bool, lo: f64, hi: f64) -> Value {
    if wild || (extreme() && r.random_bool(0.15)) {
        interesting_decimal(r)
    } else if r.random_bool(0.1) {
        let s = pick(r, SAFE_DECIMALS);
        decimal_value(r, s)
    } else {
        sane_decimal(r, lo, hi)
    }
}

/// Edge values in the range no known failure class reaches (|x| ≤ 1e12, ≤ 10 decimals).
const SAFE_DECIMALS: &[&str] = &[
    "0",
    "0.01",
    "0.005",
    "1",
    "1000000",
    "999999999999",
    "0.0000000001",
    "12.3456789012",
];

fn gen_component(
    r: &mut R,
    k: usize,
    segments: &[String],
    categories: &[String],
    wild: bool,
) -> Value {
    let kind = pick(
        r,
        &[
            "volume",
            "volume",
            "growth",
            "per_unit",
            "bundle",
            "logistics",
        ],
    );
    let mut c = Map::new();
    c.insert(
        "id".into(),
        Value::String(if wild && r.random_bool(0.2) {
            hostile_string(r)
        } else {
            format!("c{k}")
        }),
    );
    c.insert("kind".into(), kind.into());
    if r.random_bool(0.2) && !segments.is_empty() {
        c.insert(
            "segments".into(),
            json!([segments[r.random_range(0..segments.len())]]),
        );
    }
    if r.random_bool(0.2) && !categories.is_empty() && kind != "bundle" {
        c.insert(
            "categories".into(),
            json!([categories[r.random_range(0..categories.len())]]),
        );
    }
    if r.random_bool(0.2) {
        c.insert("measure".into(), pick(r, &["period", "cumulative"]).into());
    }
    if r.random_bool(0.2) {
        c.insert("returns".into(), pick(r, &["net", "gross"]).into());
    }
    if r.random_bool(0.2) {
        c.insert("cap".into(), money(r, wild, 100.0, 100_000.0));
    }
    if r.random_bool(0.2) {
        c.insert("exclusive_group".into(), pick(r, &["g", "h"]).into());
    }
    let tiers = |r: &mut R, growth: bool| -> Value {
        let n = if wild && r.random_bool(0.05) {
            r.random_range(0..2000)
        } else {
            r.random_range(1..5)
        };
        let mut from: f64 = 0.0;
        let mut rate: f64 = 0.0;
        let reward = pick(r, &["percent", "percent", "per_unit", "fixed"]);
        let v: Vec<Value> = (0..n)
            .map(|_| {
                from += if growth {
                    r.random_range(1.0..20.0)
                } else {
                    r.random_range(1.0..200_000.0)
                };
                rate += r.random_range(0.0..3.0);
                let f = if wild || (extreme() && r.random_bool(0.05)) {
                    interesting_decimal(r)
                } else {
                    json!(from.round())
                };
                let val = if wild || (extreme() && r.random_bool(0.1)) {
                    interesting_decimal(r)
                } else if reward == "fixed" {
                    json!((rate * 100.0).round())
                } else {
                    json!((rate * 100.0).round() / 100.0)
                };
                json!({"from": f, reward: val})
            })
            .collect();
        Value::Array(v)
    };
    match kind {
        "volume" => {
            if r.random_bool(0.5) {
                c.insert("basis".into(), pick(r, &["revenue", "units"]).into());
            }
            c.insert(
                "method".into(),
                pick(r, &["retroactive", "incremental", "rolling", "total"]).into(),
            );
            c.insert("tiers".into(), tiers(r, false));
            if r.random_bool(0.2) {
                c.insert("basis_cap".into(), money(r, wild, 1000.0, 1_000_000.0));
            }
        }
        "growth" => {
            c.insert("tiers".into(), tiers(r, true));
            if r.random_bool(0.5) {
                c.insert("applies_to".into(), pick(r, &["whole", "growth"]).into());
            }
        }
        "per_unit" => {
            c.insert("amount".into(), money(r, wild, 0.01, 10.0));
            if r.random_bool(0.6) {
                let a = if r.random_bool(0.3) {
                    json!("baseline")
                } else {
                    money(r, wild, 0.0, 500.0)
                };
                c.insert("above".into(), a);
            }
        }
        "bundle" => {
            let mut mins = Map::new();
            for cat in categories.iter().take(3) {
                mins.insert(cat.clone(), money(r, wild, 0.0, 10_000.0));
            }
            if wild && r.random_bool(0.3) {
                mins.insert(hostile_string(r), money(r, wild, 0.0, 10.0));
            }
            c.insert(
                "categories".into(),
                json!(categories.iter().take(3).collect::<Vec<_>>()),
            );
            c.insert("minimums".into(), Value::Object(mins));
            if r.random_bool(0.5) {
                c.insert("percent".into(), money(r, wild, 0.1, 5.0));
            } else {
                c.insert("fixed".into(), money(r, wild, 1.0, 5_000.0));
            }
        }
        _ => {
            c.insert("min_quantity".into(), money(r, wild, 1.0, 1000.0));
            if r.random_bool(0.5) {
                c.insert("per_order".into(), money(r, wild, 1.0, 100.0));
            } else {
                c.insert("percent".into(), money(r, wild, 0.1, 5.0));
            }
        }
    }
    if wild && r.random_bool(0.2) {
        // a field of another kind, or a wrong type
        let k = pick(
            r,
            &[
                "tiers",
                "amount",
                "minimums",
                "per_order",
                "method",
                "basis",
                "above",
            ],
        );
        let v = match r.random_range(0..4) {
            0 => json!(null),
            1 => json!([1, 2]),
            2 => json!({"x": 1}),
            _ => json!(true),
        };
        c.insert(k.into(), v);
    }
    Value::Object(c)
}

/// A programme that compiles, for settlement and forecasts (a few tries of the generator,
/// then a minimal one).
pub fn valid_programme(r: &mut R) -> Value {
    for _ in 0..20 {
        let v = gen_programme(r, true);
        if let Ok(p) = Programme::from_value(v.clone()) {
            if p.compile().is_ok() {
                return v;
            }
        }
    }
    json!({
        "name": "Minimal", "currency": "EUR", "start": "2027-01-01", "period": "quarter",
        "periods": 4, "segments": ["installer", "retail"], "categories": ["cable", "lighting"],
        "components": [{"id": "v", "kind": "volume",
                        "tiers": [{"from": 1000, "percent": 1}, {"from": 5000, "percent": 2}]}]
    })
}

fn prog_start(p: &Value) -> chrono::NaiveDate {
    p.get("start")
        .and_then(Value::as_str)
        .and_then(rebatesim::programme::values::parse_date)
        .unwrap_or(chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap())
}

/// Days from the start to the programme's last day (400 when the value tree cannot tell).
fn prog_days(p: &Value) -> u64 {
    let months = match p.get("period").and_then(Value::as_str) {
        Some("month") => 1,
        Some("quarter") => 3,
        Some("half") => 6,
        Some("year") => 12,
        _ => return 400,
    };
    let n = p
        .get("periods")
        .and_then(Value::as_u64)
        .unwrap_or(1)
        .min(240) as u32;
    let start = prog_start(p);
    start
        .checked_add_months(chrono::Months::new(months * n))
        .map(|e| (e - start).num_days().max(1) as u64 - 1)
        .unwrap_or(400)
}

fn random_date_in(r: &mut R, p: &Value) -> String {
    let days = r.random_range(0..=prog_days(p));
    prog_start(p)
        .checked_add_days(chrono::Days::new(days))
        .map(|d| d.to_string())
        .unwrap_or_else(|| "2027-06-30".into())
}

fn strings_of(p: &Value, key: &str) -> Vec<String> {
    p.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A number cell: ordinary, an in-range edge value, or (dirty tables) anything.
fn cell_decimal(r: &mut R, dirty: bool, lo: f64, hi: f64) -> String {
    if dirty && r.random_bool(0.1) {
        pick(r, DECIMALS).to_owned()
    } else if extreme() && r.random_bool(0.02) {
        pick(
            r,
            &[
                "79228162514264337593543950335",
                "39614081257132168796771975168",
                "1.2345678901234567890123456789",
                "0.0000000000000000000000000001",
                "1e-24",
            ],
        )
        .to_owned()
    } else if r.random_bool(0.03) {
        pick(r, SAFE_DECIMALS).to_owned()
    } else {
        let v: f64 = r.random_range(lo..hi);
        format!("{v:.2}")
    }
}

/// Partner ids that are hostile but valid (spreadsheet formulas, non-ASCII, quotes).
const ODD_IDS: &[&str] = &[
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+cmd",
    "-1",
    "@SUM(A1)",
    "a,b",
    "\"q\"",
    "ü€😀",
    "\u{202e}rtl",
    "tab\there",
];

/// A partner table for `p` (ids, CSV bytes): `partner_id,segment,baseline_revenue,baseline_units`.
/// Two tables in three are clean (unique ids, declared segments, numbers); the others have
/// a dropped or extra column, hostile cells, malformed numbers.
pub fn gen_partners(r: &mut R, p: &Value, max: usize) -> (Vec<String>, Vec<u8>) {
    let dirty = r.random_bool(0.33);
    let segs = strings_of(p, "segments");
    let n = if dirty {
        r.random_range(0..=max)
    } else {
        r.random_range(1..=max.max(1))
    };
    let mut cols = vec![
        "partner_id",
        "segment",
        "baseline_revenue",
        "baseline_units",
    ];
    if dirty && r.random_bool(0.2) {
        cols.remove(r.random_range(0..cols.len()));
    }
    if r.random_bool(0.1) {
        cols.push(pick(r, &["unit_price", "margin_rate", "mix_cable", "note"]));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&cols).unwrap();
    let mut ids = Vec::new();
    for k in 0..n {
        let id = if dirty && r.random_bool(0.1) {
            hostile_string(r)
        } else if r.random_bool(0.1) {
            format!("{}{k}", pick(r, ODD_IDS))
        } else {
            format!("P{k}")
        };
        ids.push(id.clone());
        let row: Vec<String> = cols
            .iter()
            .map(|c| match *c {
                "partner_id" => id.clone(),
                "segment" => {
                    if !segs.is_empty() && !(dirty && r.random_bool(0.1)) {
                        segs[r.random_range(0..segs.len())].clone()
                    } else if dirty {
                        hostile_string(r)
                    } else {
                        "retail".into()
                    }
                }
                "baseline_revenue" => {
                    if r.random_bool(0.1) {
                        String::new()
                    } else {
                        cell_decimal(r, dirty, 0.0, 2_000_000.0)
                    }
                }
                "baseline_units" => {
                    if r.random_bool(0.1) {
                        String::new()
                    } else {
                        cell_decimal(r, dirty, 0.0, 20_000.0)
                    }
                }
                "unit_price" => cell_decimal(r, dirty, 1.0, 500.0),
                "margin_rate" => cell_decimal(r, dirty, 0.0, 1.0),
                "mix_cable" => cell_decimal(r, dirty, 0.0, 1.0),
                _ => hostile_string(r),
            })
            .collect();
        w.write_record(&row).unwrap();
    }
    (ids, w.into_inner().unwrap())
}

/// A transaction table for `p` over partners `ids`: two in three clean (dates within the
/// programme, up to `until` when given; declared categories; returns now and then; in a tenth
/// of them large amounts), the others with unknown partners, bad dates, malformed cells.
pub fn gen_transactions(
    r: &mut R,
    p: &Value,
    ids: &[String],
    max: usize,
    until: Option<&str>,
) -> Vec<u8> {
    let dirty = r.random_bool(0.33);
    let cats = strings_of(p, "categories");
    let start = prog_start(p);
    let until = until.and_then(rebatesim::programme::values::parse_date);
    let span = until
        .map(|u| (u - start).num_days().max(0) as u64)
        .unwrap_or_else(|| prog_days(p));
    let n = r.random_range(0..=max);
    let mut cols = vec![
        "partner_id",
        "date",
        "quantity",
        "revenue",
        "category",
        "order_id",
    ];
    if dirty && r.random_bool(0.2) {
        cols.remove(r.random_range(0..cols.len()));
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&cols).unwrap();
    let big = r.random_bool(0.1);
    for _ in 0..n {
        let row: Vec<String> = cols
            .iter()
            .map(|c| match *c {
                "partner_id" => {
                    if !ids.is_empty() && !(dirty && r.random_bool(0.05)) {
                        ids[r.random_range(0..ids.len())].clone()
                    } else {
                        hostile_string(r)
                    }
                }
                "date" => {
                    if dirty && r.random_bool(0.05) {
                        pick(r, DATES).to_owned()
                    } else {
                        start
                            .checked_add_days(chrono::Days::new(r.random_range(0..=span)))
                            .map(|d| d.to_string())
                            .unwrap_or_default()
                    }
                }
                "quantity" => {
                    if big {
                        cell_decimal(r, dirty, -1e3, 1e9)
                    } else if r.random_bool(0.05) {
                        format!("-{}", r.random_range(1..20))
                    } else {
                        format!("{}", r.random_range(1..500))
                    }
                }
                "revenue" => {
                    if big {
                        cell_decimal(r, dirty, -1e6, 1e12)
                    } else if r.random_bool(0.05) {
                        cell_decimal(r, dirty, -500.0, 0.0)
                    } else {
                        cell_decimal(r, dirty, 1.0, 50_000.0)
                    }
                }
                "category" => {
                    if !cats.is_empty() && !(dirty && r.random_bool(0.1)) {
                        cats[r.random_range(0..cats.len())].clone()
                    } else if !dirty || r.random_bool(0.5) {
                        String::new()
                    } else {
                        hostile_string(r)
                    }
                }
                _ => format!("O{}", r.random_range(0..30)),
            })
            .collect();
        w.write_record(&row).unwrap();
    }
    w.into_inner().unwrap()
}

/// A demand model as a value tree: small, fast models (few orders), with random values in
/// random fields now and then.
pub fn gen_model(r: &mut R, categories: &[String]) -> Value {
    let mut m = json!({
        "seasonality": {"factors": [0.8, 0.9, 1.0, 1.1, 1.1, 1.1, 1.0, 0.9, 1.0, 1.1, 1.0, 1.0]},
        "growth": {"rate": 0.03},
        "market": {"sigma": 0.06, "process": "ar1", "rho": 0.8},
        "noise": {"sigma": 0.2},
        "churn": {"monthly_hazard": 0.002},
        "returns": {"share": 0.02}
    });
    if !categories.is_empty() {
        let share = 1.0 / categories.len() as f64;
        let mix: Map<String, Value> = categories
            .iter()
            .map(|c| (c.clone(), json!(share)))
            .collect();
        m.as_object_mut().unwrap().insert(
            "economics".into(),
            json!({"unit_price": 100, "category_mix": mix}),
        );
    } else {
        m.as_object_mut()
            .unwrap()
            .insert("economics".into(), json!({"unit_price": 100}));
    }
    let numbers: &[f64] = if r.random_bool(0.7) {
        &[0.0, 0.01, 0.1, 0.5, 0.9, 1e-24, 0.999999]
    } else {
        &[
            0.0, -1.0, 1.0, 0.5, 1e-300, 1e300, 1e308, -1e308, 1e-24, 2.0, 100.0, 12.0, 0.999999,
        ]
    };
    let changes = if r.random_bool(0.6) {
        0
    } else {
        r.random_range(1..4)
    };
    for _ in 0..changes {
        let (sec, key) = *[
            ("growth", "rate"),
            ("market", "sigma"),
            ("market", "rho"),
            ("noise", "sigma"),
            ("churn", "monthly_hazard"),
            ("returns", "share"),
            ("partner_factor", "sigma"),
            ("segment_factor", "sigma"),
            ("orders", "per_month"),
            ("orders", "size_sigma"),
            ("economics", "margin_rate"),
            ("economics", "unit_price"),
        ]
        .get(r.random_range(0..12))
        .unwrap();
        let mut v = numbers[r.random_range(0..numbers.len())];
        if key == "per_month" {
            v = v.clamp(0.0, 20.0); // the harness keeps the work small; huge counts: corpus
        }
        let obj = m
            .as_object_mut()
            .unwrap()
            .entry(sec)
            .or_insert_with(|| json!({}));
        if let Some(o) = obj.as_object_mut() {
            o.insert(key.into(), json!(v));
        }
    }
    if r.random_bool(0.1) {
        m.as_object_mut().unwrap().insert(
            "behaviour".into(),
            json!({"stretch": {"enabled": true}, "uplift": {"elasticity": 0.5}}),
        );
    }
    m
}

// ---------------------------------------------------------------------------------------------
// Mutation

/// Tokens inserted by the mutator: syntax of the three formats, extremes and hostile text.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    ",",
    ":",
    "=",
    "\n",
    "- ",
    "&a ",
    "*a",
    "<<: *a",
    "!!binary ",
    "!!python/object ",
    "---\n",
    "...\n",
    "#",
    "[[components]]\n",
    "null",
    "~",
    "true",
    "1e400",
    "79228162514264337593543950335",
    "0.0000000000000000000000000001",
    "-0",
    "NaN",
    "nan",
    "inf",
    "0000-01-01",
    "9999-12-31",
    "10000-01-01",
    "\u{0}",
    "\u{feff}",
    "\r\n",
    "\t",
    "\\u0000",
    "\\ud800",
    "\"\\ud800\"",
    "\u{10FFFF}",
];

fn mutate_case(r: &mut R, c: &mut Case, corpus: &[Case]) {
    if c.parts.is_empty() {
        return;
    }
    let k = r.random_range(0..c.parts.len());
    let others: Vec<&Vec<u8>> = corpus
        .iter()
        .flat_map(|c| c.parts.iter().map(|(_, b)| b))
        .collect();
    let b = &mut c.parts[k].1;
    for _ in 0..r.random_range(1..6) {
        mutate_bytes(r, b, &others);
    }
}

/// One mutation of `b`: flip a byte, delete / duplicate / swap a range, insert a token,
/// replace a number with an extreme one, splice in a piece of another input, or nest deeply.
pub fn mutate_bytes(r: &mut R, b: &mut Vec<u8>, others: &[&Vec<u8>]) {
    let n = b.len();
    match r.random_range(0..9) {
        0 if n > 0 => {
            let i = r.random_range(0..n);
            b[i] ^= 1 << r.random_range(0..8);
        }
        1 if n > 0 => {
            let i = r.random_range(0..n);
            let j = (i + r.random_range(1..64)).min(n);
            b.drain(i..j);
        }
        2 if n > 0 => {
            let i = r.random_range(0..n);
            let j = (i + r.random_range(1..256)).min(n);
            let piece = b[i..j].to_vec();
            let times = if r.random_bool(0.1) {
                r.random_range(2..200)
            } else {
                1
            };
            for _ in 0..times {
                let at = r.random_range(0..=b.len());
                b.splice(at..at, piece.iter().copied());
            }
        }
        3 => {
            let t = pick(r, TOKENS).as_bytes().to_vec();
            let at = r.random_range(0..=n);
            b.splice(at..at, t);
        }
        4 | 5 => {
            // replace a number token with an extreme one
            let starts: Vec<usize> = (0..n)
                .filter(|&i| {
                    b[i].is_ascii_digit()
                        && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'))
                })
                .collect();
            if starts.is_empty() {
                return;
            }
            let i = starts[r.random_range(0..starts.len())];
            let mut j = i;
            while j < n && (b[j].is_ascii_digit() || b[j] == b'.' || b[j] == b'e' || b[j] == b'-') {
                j += 1;
            }
            let t = pick(r, DECIMALS).as_bytes().to_vec();
            b.splice(i..j, t);
        }
        6 if !others.is_empty() => {
            let o = others[r.random_range(0..others.len())];
            if o.is_empty() {
                return;
            }
            let i = r.random_range(0..o.len());
            let j = (i + r.random_range(1..512)).min(o.len());
            let at = r.random_range(0..=n);
            b.splice(at..at, o[i..j].iter().copied());
        }
        7 => {
            // deep nesting (bounded: the corpus holds the huge ones)
            let d = r.random_range(1..400);
            let (open, close) = *[("[", "]"), ("{\"a\":", "}"), ("- ", "")]
                .get(r.random_range(0..3))
                .unwrap();
            let at = r.random_range(0..=n);
            let mut ins = open.repeat(d);
            ins.push('1');
            ins.push_str(&close.repeat(d));
            b.splice(at..at, ins.into_bytes());
        }
        _ if n > 0 => {
            let i = r.random_range(0..n);
            b[i] = r.random();
        }
        _ => b.extend_from_slice(pick(r, TOKENS).as_bytes()),
    }
}
