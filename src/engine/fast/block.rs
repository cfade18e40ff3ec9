//! The fast path's demand, a block of partners at a time.
//!
//! On the fast path ([`super::fast`]) a partner's year reduces to its purchases per period in
//! minor units. [`demand_block`] computes them for [`LANES`] consecutive partners at once, one
//! partner per vector lane, four months at a time: the noise factors of the months
//! ([`crate::rng::normals`], counter-based, so a lane's normal is a function of its partner's
//! key and the month; in `f32`, two Box–Muller pairs of months of each of the sixteen
//! partners), the months' demand, its rounding to the minor unit and the running sums per
//! period. Each partner alone is a long chain of dependent
//! operations (normal → `exp` → rounding → sum); sixteen of them side by side (two AVX-512
//! registers of `f64` for each value) keep the vector units busy instead of waiting on that
//! chain.
//!
//! A month's market and seasonality factors are read through [`std::hint::black_box`], so
//! that each is one number broadcast to the lanes. Without it the compiler's SLP vectoriser
//! gathered the four months' factors into one register, computed the demand four months to a
//! register and transposed the results back to one partner per lane with shuffles. Measured
//! on bench-std (`engine_std`, 1 thread, interleaved runs): eight lanes with the shuffles
//! 251 M partner-months/s, either change alone 1–2% more, both together 288–291.
//!
//! Every value is computed by exactly the floating-point operations, in the same order, that
//! [`Setup::demand`] and the fast path's per-partner rounding apply to one partner, so the
//! results are bit-identical to the general path's (the tests of `super::fast` compare them on
//! random programmes, populations and models). The kernel is written once, lane by lane, and
//! compiled for AVX-512, AVX2 and plain x86-64 (or any other target), picked at run time: only
//! IEEE additions, subtractions, multiplications, comparisons and integer operations, never
//! fused, so every version gives the same bits.

use crate::engine::setup::Setup;
use crate::engine::work::Work;
use crate::rng::normals::{self, factor_params};
use crate::rng::{self, Purpose};

/// Partners per block: two AVX-512 registers of `f64`, four AVX2 registers.
pub(super) const LANES: usize = 16;

/// What [`demand_block`] gives per partner of the block (lane `l` = partner `i0 + l`).
#[derive(Debug, Clone)]
pub(super) struct BlockOut {
    /// Purchases of period `k` in minor units, the running sum of its months:
    /// `period[k][l]`.
    pub(super) period: Vec<[f64; LANES]>,
    /// Purchases of the whole programme in minor units, the running sum of every month.
    pub(super) total: [f64; LANES],
    /// When the programme measures units ([`Setup::units`]): the quantities of period `k` in
    /// millionths of a unit, the running sum of its months' [`line_qty`] (else zeros).
    pub(super) period_q: Vec<[f64; LANES]>,
}

impl BlockOut {
    pub(super) fn new(period_count: usize) -> BlockOut {
        BlockOut {
            period: vec![[0.0; LANES]; period_count],
            total: [0.0; LANES],
            period_q: vec![[0.0; LANES]; period_count],
        }
    }
}

/// The lanes' inputs: one partner each.
/// Aligned to 64 bytes: a local of the kernel's function, it makes the compiler realign that
/// function's stack frame, so that its 64-byte spills and reloads of vector registers never
/// straddle two cache lines (unaligned, they did or did not depending on the caller's frame:
/// ±20% on bench-std from one build to the next).
#[repr(align(64))]
#[derive(Default)]
struct Lanes {
    /// The partner's noise key.
    key: [u64; LANES],
    /// Its factor for the year ([`Setup::partner_year`]).
    f: [f64; LANES],
    /// Its segment's noise σ.
    sigma: [f64; LANES],
    /// σ and σ²/2 as the noise factors use them ([`normals::factor_params`]), twice over:
    /// lane `l` and `l + LANES` (two Box–Muller pairs of months side by side).
    sig32: [f32; 2 * LANES],
    half_var32: [f32; 2 * LANES],
    /// Its churn month as a number (`months` when it does not churn).
    churn: [f64; LANES],
    /// Its share of the single line category.
    mix: [f64; LANES],
    /// Its quantity per minor unit ([`PartnerConst::qpm`]).
    qpm: [f64; LANES],
    /// Offset of its segment's row in `seg_month`.
    seg_off: [usize; LANES],
    /// Every lane has noise (σ > 0), its whole line in the single category (share 1) and a
    /// factor for the year `f` finite and positive: see [`Shared::plain`].
    plain: bool,
}

/// What the lanes read of each partner whatever the scenario, in columns, so that a block's
/// partners are [`LANES`] consecutive values of each (vector loads, no per-lane work): its
/// baseline month, segment, noise σ (as the noise factors use it too,
/// [`normals::factor_params`]), share of the single line category and its segment's row in
/// `Setup::seg_month`. Padded to a whole number of blocks with copies of the last partner (the
/// lanes past the end of the last block repeat it).
#[derive(Debug, Clone)]
pub(super) struct LaneTable {
    base: Vec<f64>,
    seg: Vec<usize>,
    sigma: Vec<f64>,
    sig32: Vec<f32>,
    half_var32: Vec<f32>,
    mix: Vec<f64>,
    /// The partner's quantity per minor unit ([`PartnerConst::qpm`]).
    qpm: Vec<f64>,
    seg_off: Vec<usize>,
    /// The partner's segment has a partner factor or churn ([`Setup::partner_year`] draws).
    draws: Vec<bool>,
    /// Every seasonality factor (`Setup::seg_month`) is finite and `+0` or more.
    season_pos: bool,
}

impl LaneTable {
    /// The table of `setup`'s partners (one line category: `mix` has a share a partner).
    pub(super) fn new(setup: &Setup) -> LaneTable {
        let n = setup.partners.len();
        let len = n.div_ceil(LANES) * LANES;
        let mut t = LaneTable {
            base: Vec::with_capacity(len),
            seg: Vec::with_capacity(len),
            sigma: Vec::with_capacity(len),
            sig32: Vec::with_capacity(len),
            half_var32: Vec::with_capacity(len),
            mix: Vec::with_capacity(len),
            qpm: Vec::with_capacity(len),
            seg_off: Vec::with_capacity(len),
            draws: Vec::with_capacity(len),
            season_pos: setup
                .seg_month
                .iter()
                .all(|&s| s >= 0.0 && s.is_finite() && s.is_sign_positive()),
        };
        assert_eq!(setup.mix.len(), n, "one line category");
        for i in 0..len {
            let i = i.min(n.saturating_sub(1));
            let pc = &setup.partners[i];
            let sc = &setup.segs[pc.seg];
            let (s, h) = factor_params(sc.noise);
            t.base.push(pc.base_month);
            t.seg.push(pc.seg);
            t.sigma.push(sc.noise);
            t.sig32.push(s);
            t.half_var32.push(h);
            t.mix.push(setup.mix[i]);
            t.qpm.push(pc.qpm);
            t.seg_off.push(pc.seg * setup.months);
            t.draws.push(sc.partner > 0.0 || sc.churn);
        }
        t
    }
}

/// What the kernel reads besides the lanes.
struct Shared<'a> {
    /// Whether to sum the quantities ([`BlockOut::period_q`]).
    units: bool,
    months: usize,
    months_per_period: usize,
    period_count: usize,
    scale: f64,
    seg_month: &'a [f64],
    market: &'a [f64],
    /// Every seasonality factor is finite and `+0` or more ([`LaneTable`]) and every market
    /// factor finite and positive (`Work::market_pos`). With [`Lanes::plain`] as well, a
    /// month's demand `((f · s) · market) · e` is `+0`, positive or `+∞`, never negative, `−0`
    /// or NaN (`e` is positive and finite), so the kernel's `sigma > 0`, `· mix` (× 1) and
    /// `amount > 0` change nothing and are skipped (`kernel_segs`'s `PLAIN`).
    plain: bool,
}

/// The purchases of partners `i0 .. i0 + n` (`n ≤ LANES`) of scenario key `sk` into `out`,
/// each month's purchases in minor units added to `acc[m][l]` (lane `l`'s running sum of
/// month `m`; the lanes past `n` add 0): the scenario's per-lane sums of the months, which
/// [`month_rev`] adds up at the end of the scenario.
#[allow(clippy::too_many_arguments)]
pub(super) fn demand_block(
    setup: &Setup,
    t: &LaneTable,
    sk: u64,
    i0: usize,
    n: usize,
    w: &Work,
    acc: &mut [[f64; LANES]],
    out: &mut BlockOut,
) {
    debug_assert!((1..=LANES).contains(&n));
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq") {
            // SAFETY: the CPU supports AVX-512 F and DQ (checked just above)
            unsafe { block_avx512(setup, t, sk, i0, n, w, acc, out) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2 (checked just above)
            unsafe { block_avx2(setup, t, sk, i0, n, w, acc, out) };
            return;
        }
    }
    block(setup, t, sk, i0, n, w, acc, out)
}

crate::isa_versions!(#[allow(clippy::too_many_arguments)] block => block_avx512, block_avx2, (
    setup: &Setup,
    t: &LaneTable,
    sk: u64,
    i0: usize,
    n: usize,
    w: &Work,
    acc: &mut [[f64; LANES]],
    out: &mut BlockOut,
));

/// [`demand_block`] for one instruction set: the lanes' inputs, then the kernel.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn block(
    setup: &Setup,
    t: &LaneTable,
    sk: u64,
    i0: usize,
    n: usize,
    w: &Work,
    acc: &mut [[f64; LANES]],
    out: &mut BlockOut,
) {
    let lanes = lanes(setup, t, sk, i0, n, &w.segf);
    let shared = Shared {
        units: setup.units,
        months: setup.months,
        months_per_period: setup.months_per_period,
        period_count: setup.period_count,
        scale: setup.scale,
        seg_month: &setup.seg_month,
        market: &w.market,
        plain: t.season_pos && w.market_pos,
    };
    kernel(&shared, &lanes, n, acc, out)
}

/// The lanes' inputs for partners `i0 .. i0 + n`; lanes past the end repeat the last partner
/// (computed, never used). The keys lane by lane in vector registers; the rest copied from the
/// partners' [`LaneTable`], with the partner's year ([`Setup::partner_year`]) inlined, its
/// draws (partner factor, churn) called only for the segments that have them.
#[inline(always)]
fn lanes(setup: &Setup, t: &LaneTable, sk: u64, i0: usize, n: usize, segf: &[f64]) -> Lanes {
    let mut idx = [0usize; LANES];
    for (l, x) in idx.iter_mut().enumerate() {
        *x = i0 + l.min(n - 1);
    }
    let mut pk = [0u64; LANES];
    let mut key = [0u64; LANES];
    for l in 0..LANES {
        pk[l] = rng::partner_key(sk, idx[l] as u64);
        key[l] = rng::purpose_key(pk[l], Purpose::Noise);
    }
    // the partner's year without draws (`Setup::partner_year` when its segment has neither
    // partner factor nor churn); the draws, if any lane needs them, after. Row `i0 + l` of
    // the table is partner `idx[l]` (padded with copies of the last partner).
    let r = i0..i0 + LANES;
    let base: &[f64; LANES] = t.base[r.clone()].try_into().unwrap();
    let seg: &[usize; LANES] = t.seg[r.clone()].try_into().unwrap();
    let sigma: &[f64; LANES] = t.sigma[r.clone()].try_into().unwrap();
    let sig32: &[f32; LANES] = t.sig32[r.clone()].try_into().unwrap();
    let half_var32: &[f32; LANES] = t.half_var32[r.clone()].try_into().unwrap();
    let mix: &[f64; LANES] = t.mix[r.clone()].try_into().unwrap();
    let qpm: &[f64; LANES] = t.qpm[r.clone()].try_into().unwrap();
    let seg_off: &[usize; LANES] = t.seg_off[r.clone()].try_into().unwrap();
    let draws: &[bool; LANES] = t.draws[r].try_into().unwrap();
    // the segment's factor: one for the block when its partners are in one segment (the
    // population sorted by segment), so that the lanes' copies are vector moves
    let mut f = [0.0; LANES];
    if seg.iter().all(|&s| s == seg[0]) {
        let g = segf[seg[0]];
        for l in 0..LANES {
            f[l] = base[l] * g;
        }
    } else {
        for l in 0..LANES {
            f[l] = base[l] * segf[seg[l]];
        }
    }
    // every field set here (no `Lanes::default()`: zeroing it first cost 1–2% of bench-std)
    let mut lanes = Lanes {
        key,
        f,
        sigma: *sigma,
        sig32: std::array::from_fn(|p| sig32[p % LANES]),
        half_var32: std::array::from_fn(|p| half_var32[p % LANES]),
        churn: [setup.months as f64; LANES],
        mix: *mix,
        qpm: *qpm,
        seg_off: *seg_off,
        plain: false,
    };
    if draws.iter().any(|&d| d) {
        for l in 0..LANES {
            let (f, churn) = setup.partner_year(pk[l], idx[l], segf);
            lanes.f[l] = f;
            lanes.churn[l] = churn as f64;
        }
    }
    let mut plain = true;
    for l in 0..LANES {
        plain &= lanes.sigma[l] > 0.0
            && lanes.mix[l] == 1.0
            && lanes.f[l] > 0.0
            && lanes.f[l] < f64::INFINITY;
    }
    lanes.plain = plain;
    lanes
}

/// The block's months, four at a time (see the module documentation).
#[inline(always)]
fn kernel(c: &Shared, lanes: &Lanes, n: usize, acc: &mut [[f64; LANES]], out: &mut BlockOut) {
    // every lane reads `months` values of `seg_month` from its offset (checked once here,
    // so that the loop's loads need no checks)
    for l in 0..LANES {
        assert!(lanes.seg_off[l] + c.months <= c.seg_month.len());
    }
    assert!(c.market.len() >= c.months && acc.len() >= c.months);
    // the last block, partial: its months' sums into a scratch of its own (each lane's from
    // 0: its amounts exactly), the live lanes' then added to `acc`, so that the kernel needs no
    // mask
    let mut scratch = if n < LANES {
        Some(vec![[0.0; LANES]; c.months])
    } else {
        None
    };
    let dst = match &mut scratch {
        Some(v) => &mut v[..],
        None => &mut *acc,
    };
    // partners of one segment side by side (the population sorted by segment): the month's
    // seasonality one number for the block; no lane churning within the months: no test of
    // the churn month
    let one_seg = lanes.seg_off.iter().all(|&o| o == lanes.seg_off[0]);
    let churn = lanes.churn.iter().any(|&ch| ch < c.months as f64);
    match (one_seg, churn) {
        (true, false) if c.plain && lanes.plain => {
            kernel_segs::<true, false, true>(c, lanes, dst, out)
        }
        (true, false) => kernel_segs::<true, false, false>(c, lanes, dst, out),
        (true, true) => kernel_segs::<true, true, false>(c, lanes, dst, out),
        (false, false) => kernel_segs::<false, false, false>(c, lanes, dst, out),
        (false, true) => kernel_segs::<false, true, false>(c, lanes, dst, out),
    }
    if let Some(v) = scratch {
        for (a, b) in acc[..c.months].iter_mut().zip(&v) {
            for l in 0..n {
                a[l] += b[l];
            }
        }
    }
}

/// [`kernel`], `ONE_SEG` when every lane is in the same segment, `CHURN` when some lane's
/// churn month is within the months, `PLAIN` when the demand is never negative, `−0` or NaN
/// and every lane has noise and one category ([`Shared::plain`]); every lane's months added
/// to `acc`.
#[inline(always)]
fn kernel_segs<const ONE_SEG: bool, const CHURN: bool, const PLAIN: bool>(
    c: &Shared,
    lanes: &Lanes,
    acc: &mut [[f64; LANES]],
    out: &mut BlockOut,
) {
    let mut pacc = [0.0; LANES];
    let mut tot = [0.0; LANES];
    let mut qacc = [0.0; LANES];
    // the period of the month, and its months left
    let (mut k, mut left) = (0, c.months_per_period);
    // one period of every month: the total is the period's sum (the same additions in the
    // same order), not summed twice
    let single = c.period_count == 1 && c.months_per_period == c.months;
    // software-pipelined: the factors of the next four months (a long chain: `ln`'s division,
    // `√`, `exp`) are computed before these four months' demand, which does not wait on them,
    // so that the two overlap
    let quads = c.months.div_ceil(4);
    let mut e = factors(lanes, 0);
    for j in 0..quads {
        let e_next = if j + 1 < quads {
            factors(lanes, j + 1)
        } else {
            e
        };
        // the four months' purchases in minor units (those past the end, when `months` is not
        // a multiple of 4: computed, not used)
        let mut cents = [[0.0; LANES]; 4];
        for (t, et) in e.iter().enumerate() {
            // `min`: a month past the end reads the last month's inputs
            let m = (4 * j + t).min(c.months - 1);
            // `Setup::demand`: ((f · s) · market) · e, e the month's noise factor
            // (`rng::noise_factors`); without noise (f · s) · market; nothing from the churn
            // month on
            // SAFETY: m < months ≤ market.len(), and seg_off[l] + m < seg_month.len()
            // (asserted in `kernel`)
            // `black_box`: one number broadcast to the lanes (see the module documentation)
            let mk = std::hint::black_box(unsafe { *c.market.get_unchecked(m) });
            let mut fs = [0.0; LANES];
            if ONE_SEG {
                let s = std::hint::black_box(unsafe {
                    *c.seg_month.get_unchecked(lanes.seg_off[0] + m)
                });
                for l in 0..LANES {
                    fs[l] = lanes.f[l] * s;
                }
            } else {
                for l in 0..LANES {
                    fs[l] =
                        lanes.f[l] * unsafe { *c.seg_month.get_unchecked(lanes.seg_off[l] + m) };
                }
            }
            let mf = (4 * j + t) as f64;
            if PLAIN {
                // `g · 1 = g`, `g ≥ +0` (see `Shared::plain`)
                for l in 0..LANES {
                    cents[t][l] = line_cents_pos(fs[l] * mk * et[l], c.scale);
                }
                continue;
            }
            for l in 0..LANES {
                let base = fs[l] * mk;
                let g = if lanes.sigma[l] > 0.0 {
                    base * et[l]
                } else {
                    base
                };
                let g = if CHURN && mf >= lanes.churn[l] {
                    0.0
                } else {
                    g
                };
                cents[t][l] = line_cents(g * lanes.mix[l], c.scale);
            }
        }
        e = e_next;
        for (t, ct) in cents.iter().enumerate() {
            let m = 4 * j + t;
            if m >= c.months {
                break;
            }
            // SAFETY: m < months ≤ acc.len() (asserted in `kernel`)
            let row = unsafe { acc.get_unchecked_mut(m) };
            for l in 0..LANES {
                pacc[l] += ct[l];
                row[l] += ct[l];
            }
            if !single {
                for l in 0..LANES {
                    tot[l] += ct[l];
                }
            }
            if c.units {
                // the month's line quantity (`Setup::period_purchases`)
                for l in 0..LANES {
                    qacc[l] += line_qty_lanes(ct[l], lanes.qpm[l]);
                }
            }
            left -= 1;
            if left == 0 {
                // the period's last month
                if k < c.period_count {
                    out.period[k] = pacc;
                    if c.units {
                        out.period_q[k] = qacc;
                    }
                }
                pacc = [0.0; LANES];
                qacc = [0.0; LANES];
                k += 1;
                left = c.months_per_period;
            }
        }
    }
    out.total = if single { out.period[0] } else { tot };
}

/// The noise factors of months 4j .. 4j + 4 of every lane (`rng::noise_factors`): the
/// Box–Muller pairs 2j and 2j + 1 of the [`LANES`] lanes side by side (`2 · LANES` `f32`
/// lanes), their normals' factors, widened to `f64`.
#[inline(always)]
fn factors(lanes: &Lanes, j: usize) -> [[f64; LANES]; 4] {
    let mut keys = [0u64; 2 * LANES];
    let mut c = [0u64; 2 * LANES];
    for p in 0..2 * LANES {
        keys[p] = lanes.key[p % LANES];
        c[p] = (2 * j + p / LANES) as u64;
    }
    let (a, b) = normals::pairs(&keys, &c);
    let mut ea = [0.0f32; 2 * LANES];
    let mut eb = [0.0f32; 2 * LANES];
    for p in 0..2 * LANES {
        ea[p] = normals::exp(lanes.sig32[p] * a[p] - lanes.half_var32[p]);
        eb[p] = normals::exp(lanes.sig32[p] * b[p] - lanes.half_var32[p]);
    }
    let mut e = [[0.0; LANES]; 4];
    for l in 0..LANES {
        e[0][l] = ea[l] as f64;
        e[1][l] = eb[l] as f64;
        e[2][l] = ea[l + LANES] as f64;
        e[3][l] = eb[l + LANES] as f64;
    }
    e
}

/// A month's line in minor units, as `Setup::period_purchases` rounds it: `amount · scale`
/// rounded half up when `amount > 0`, else 0. Branch-free, with a truncation (a vector
/// instruction): for a finite `x > 0`, `t = trunc(x)` and `x − t` are exact, and
/// `t + (x − t ≥ ½)` is `x` rounded half up whatever its size (from 2⁵² on `x` is whole and
/// `x − t = 0`); for `x = ∞` it is ∞, as `round` gives.
#[inline(always)]
fn line_cents(amount: f64, scale: f64) -> f64 {
    let x = amount * scale;
    let t = x.trunc();
    let r = if x - t >= 0.5 { t + 1.0 } else { t };
    if amount > 0.0 {
        r
    } else {
        0.0
    }
}

/// [`line_cents`] of an amount that is `+0`, positive or `+∞` (never negative, `−0` or NaN):
/// the test of `amount > 0` changes nothing (`+0` rounds to `+0`).
#[inline(always)]
fn line_cents_pos(amount: f64, scale: f64) -> f64 {
    let x = amount * scale;
    let t = x.trunc();
    if x - t >= 0.5 {
        t + 1.0
    } else {
        t
    }
}

/// [`line_qty`] without branches (a vector loop): `cents · qpm` rounded half up when
/// positive, else 0 — the same bits ([`line_cents`]'s rounding, which is the general path's
/// `round_half_up_positive`).
#[inline(always)]
fn line_qty_lanes(cents: f64, qpm: f64) -> f64 {
    line_cents(cents, qpm)
}

/// Adds the scenario's purchases of each month, in minor units, to `month_rev`, from `acc`
/// (the per-lane sums [`demand_block`] left for every partner of the scenario, `acc[m][l]`
/// from 0), giving the same numbers as adding the partners' amounts to `month_rev` one after
/// another (the per-partner path). The amounts are whole numbers ≥ 0: while every partial
/// sum stays below 2⁵³ any order of adding them is exact, and a partial sum of 2⁵³ or more,
/// in any order, makes the computed total 2⁵³ or more (rounding is monotone). So a total
/// below 9·10¹⁵ is the exact sum, whatever the order; at or above it (or infinite) the months
/// are recomputed and added partner after partner ([`exact_month_rev`]).
pub(super) fn month_rev(
    setup: &Setup,
    t: &LaneTable,
    sk: u64,
    w: &Work,
    acc: &[[f64; LANES]],
    month_rev: &mut [f64],
) {
    let months = setup.months;
    // any order of the lanes (see above)
    let sum = |rev: f64, p: &[f64; LANES]| rev + p.iter().sum::<f64>();
    let rev = &month_rev[..months];
    if rev.iter().zip(acc).all(|(&r, p)| sum(r, p) < 9.0e15) {
        for (r, p) in month_rev[..months].iter_mut().zip(acc) {
            *r = sum(*r, p);
        }
    } else {
        exact_month_rev(setup, t, sk, w, month_rev);
    }
}

/// [`month_rev`]'s cold path: every partner's purchases of each month, in minor units, added
/// to `month_rev` partner after partner (a block's demand again, one block at a time).
#[cold]
#[inline(never)]
fn exact_month_rev(setup: &Setup, t: &LaneTable, sk: u64, w: &Work, month_rev: &mut [f64]) {
    let n = setup.partners.len();
    let months = setup.months;
    let mut blk = BlockOut::new(setup.period_count);
    let mut acc = vec![[0.0; LANES]; months];
    for i0 in (0..n).step_by(LANES) {
        let nb = LANES.min(n - i0);
        acc.fill([0.0; LANES]);
        demand_block(setup, t, sk, i0, nb, w, &mut acc, &mut blk);
        for (rev, row) in month_rev[..months].iter_mut().zip(&acc) {
            for &x in &row[..nb] {
                *rev += x;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::purchases::{line_qty, round_half_up_positive};
    use rand::{Rng, SeedableRng};

    // the kernel alone, compiled for each instruction set (production runs it inside `block`)
    crate::isa_versions!(kernel => kernel_avx512, kernel_avx2, (
        c: &Shared,
        lanes: &Lanes,
        n: usize,
        acc: &mut [[f64; LANES]],
        out: &mut BlockOut,
    ));

    impl Lanes {
        /// Lane `l`'s noise σ.
        #[inline(always)]
        fn set_sigma(&mut self, l: usize, sigma: f64) {
            let (s, h) = factor_params(sigma);
            self.sigma[l] = sigma;
            self.sig32[l] = s;
            self.sig32[l + LANES] = s;
            self.half_var32[l] = h;
            self.half_var32[l + LANES] = h;
        }
    }

    #[test]
    fn line_cents_is_the_general_paths_rounding() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
        let mut g: Vec<f64> = (0..5000).map(|_| r.random_range(-10.0..1e5)).collect();
        // halves, near-halves, huge and special values
        for x in [
            0.005, 0.015, 0.025, 1.005, 2.675, 1e-12, 0.0, -0.0, -1.0, 4.0e13, 4.5e13, 1e15, 1e300,
        ] {
            g.push(x);
            g.push(f64::from_bits(x.to_bits() + 1));
            g.push(f64::from_bits(x.to_bits().saturating_sub(1)));
        }
        g.extend([
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ]);
        for (mix, scale) in [(1.0, 100.0), (0.37, 1.0), (1.0, 1000.0)] {
            for &v in &g {
                let amount = v * mix;
                let want = if amount > 0.0 {
                    round_half_up_positive(amount * scale)
                } else {
                    0.0
                };
                assert_eq!(
                    line_cents(amount, scale).to_bits(),
                    want.to_bits(),
                    "{v} × {mix} × {scale}"
                );
            }
        }
    }

    /// Random lanes, some without noise, some churning, some with the largest σ the model
    /// allows, over 1 to 30 months in periods of 1 to 12 months.
    fn random_lanes(r: &mut impl Rng) -> Lanes {
        let mut lanes = Lanes::default();
        for l in 0..LANES {
            lanes.key[l] = r.random();
            lanes.f[l] = r.random_range(0.0..1e6);
            let sigma = *[0.0, 0.15, 0.35, 1.0, 3.0, 1e-30]
                .get(r.random_range(0..6))
                .unwrap();
            lanes.set_sigma(l, sigma);
            lanes.churn[l] = r.random_range(0..40) as f64;
            lanes.mix[l] = r.random_range(0.0..1.0);
            // no price, or a price of 0.37 to 420 (quantities in millionths per cent)
            lanes.qpm[l] = if r.random_bool(0.2) {
                0.0
            } else {
                1.0 / r.random_range(0.37..420.0) * 1e4
            };
            lanes.seg_off[l] = 0;
        }
        lanes
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let mut r = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        for case in 0..200 {
            let months_per_period = r.random_range(1..=12usize);
            let period_count = r.random_range(1..=3usize);
            let months = months_per_period * period_count;
            // three segments; the lanes in one of them (a population sorted by segment) or
            // in any
            // a plain case (`Shared::plain`, `Lanes::plain`): noise in every lane, one
            // category, no churn, factors positive (some seasonality factors 0)
            let plain = r.random_bool(0.3);
            let seg_month: Vec<f64> = (0..3 * months)
                .map(|_| {
                    if plain && r.random_bool(0.1) {
                        0.0
                    } else {
                        r.random_range(0.5..1.5)
                    }
                })
                .collect();
            let market: Vec<f64> = (0..months).map(|_| r.random_range(0.8..1.2)).collect();
            let c = Shared {
                units: r.random_bool(0.5),
                months,
                months_per_period,
                period_count,
                scale: 100.0,
                seg_month: &seg_month,
                market: &market,
                plain,
            };
            let mut lanes = random_lanes(&mut r);
            if plain {
                for l in 0..LANES {
                    let sigma = [0.15, 0.35, 1.0, 3.0][r.random_range(0..4)];
                    lanes.set_sigma(l, sigma);
                    lanes.mix[l] = 1.0;
                    lanes.churn[l] = months as f64;
                    lanes.f[l] = r.random_range(1e-3..1e6);
                }
                lanes.plain = true;
            }
            let one_seg = plain || r.random_bool(0.5);
            let seg0 = r.random_range(0..3usize);
            for l in 0..LANES {
                lanes.seg_off[l] = months
                    * if one_seg {
                        seg0
                    } else {
                        r.random_range(0..3usize)
                    };
            }
            let n = r.random_range(1..=LANES);
            let run = |f: &dyn Fn(&mut [[f64; LANES]], &mut BlockOut)| {
                let mut acc = vec![[0.0; LANES]; months];
                let mut out = BlockOut::new(period_count);
                f(&mut acc, &mut out);
                (acc, out.period, out.total, out.period_q)
            };
            let portable = run(&|rev, out| kernel(&c, &lanes, n, rev, out));
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx2") {
                    let v = run(&|rev, out| unsafe { kernel_avx2(&c, &lanes, n, rev, out) });
                    assert_eq!(format!("{v:?}"), format!("{portable:?}"), "case {case}");
                }
                if std::arch::is_x86_feature_detected!("avx512dq") {
                    let v = run(&|rev, out| unsafe { kernel_avx512(&c, &lanes, n, rev, out) });
                    assert_eq!(format!("{v:?}"), format!("{portable:?}"), "case {case}");
                }
            }
            // and lane by lane, the per-partner recipe: factors, demand, rounding, sums
            let mut rev = vec![0.0; months];
            for l in 0..n {
                let mut e = vec![0.0; months];
                crate::rng::normals::fill_factors(lanes.key[l], lanes.sigma[l], &mut e);
                let mut total = 0.0;
                let mut period = vec![0.0; period_count];
                let mut period_q = vec![0.0; period_count];
                for m in 0..months {
                    let base = lanes.f[l] * seg_month[lanes.seg_off[l] + m] * market[m];
                    let g = if lanes.sigma[l] > 0.0 {
                        base * e[m]
                    } else {
                        base
                    };
                    let g = if m as f64 >= lanes.churn[l] { 0.0 } else { g };
                    let cents = line_cents(g * lanes.mix[l], 100.0);
                    total += cents;
                    period[m / months_per_period] += cents;
                    period_q[m / months_per_period] += line_qty(cents, lanes.qpm[l]);
                    rev[m] += cents;
                }
                assert_eq!(
                    portable.2[l].to_bits(),
                    total.to_bits(),
                    "case {case} lane {l}"
                );
                for k in 0..period_count {
                    assert_eq!(
                        portable.1[k][l].to_bits(),
                        period[k].to_bits(),
                        "case {case} lane {l}"
                    );
                    let want_q = if c.units { period_q[k] } else { 0.0 };
                    assert_eq!(
                        portable.3[k][l].to_bits(),
                        want_q.to_bits(),
                        "case {case} lane {l} quantity"
                    );
                }
            }
            // the months' sums: lane by lane, nothing from the lanes past `n`
            for m in 0..months {
                let mut sum = 0.0;
                for l in 0..LANES {
                    if l >= n {
                        assert_eq!(portable.0[m][l].to_bits(), 0, "case {case} month {m}");
                    }
                    sum += portable.0[m][l];
                }
                assert_eq!(sum.to_bits(), rev[m].to_bits(), "case {case} month {m}");
            }
        }
    }
}
