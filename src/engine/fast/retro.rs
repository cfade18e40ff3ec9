//! The fast path's programme for retroactive revenue ladders of rates (bench-std's shape,
//! [`super::Simple`]'s `retro`): each partner's measure, tier, rounding and cap computed lane
//! by lane over a block of partners where they share a component and a segment, partner by
//! partner elsewhere, with the same bits either way.

use super::block;
use crate::engine::scenario::ScenarioOut;
use crate::engine::setup::NONE;
use crate::rules::{Amount, Prepared};

/// A component of [`Simple::retro`].
#[derive(Debug, Clone, Copy)]
pub(super) struct RetroComp {
    /// [`SimpleComp::bounds4`].
    pub(super) bounds: [f64; 4],
    /// Each tier's rate (padded with 0).
    pub(super) rates: [f64; 4],
    /// The component cap (+∞ for none: `e.min_of(∞)` is `e`).
    pub(super) cap: f64,
    /// Its ladder's tier-count offset and index.
    pub(super) offset: u32,
    pub(super) l: u32,
    /// Its number of tiers (`bounds` past them are NaN, never met).
    pub(super) tiers: u8,
    pub(super) cumulative: bool,
}

/// What [`retro_pass`] reads: the programme's rounding, the scale of minor units, the number
/// of ladders (the row width of `partner_tier`) and [`Simple::retro`]'s tables.
#[derive(Clone, Copy)]
pub(super) struct RetroRun<'a> {
    pub(super) prep: &'a Prepared<f64>,
    pub(super) scale: f64,
    pub(super) nl: usize,
    pub(super) ps: &'a [(u32, u32)],
    pub(super) rc: &'a [RetroComp],
    pub(super) uniform: &'a [bool],
}

/// [`run_simple`]'s programme for retroactive revenue ladders of rates ([`Simple::retro`]):
/// each partner's payout from its purchases in minor units (`o.partner_final`, replaced by the
/// payout), its tier, and the scenario's sums in partner order. Returns the total payout and
/// the total revenue.
///
/// A block of [`block::LANES`] consecutive partners in the same component and segment (the
/// usual case: partner tables are grouped by segment) is computed lane by lane without
/// branches ([`retro_lanes`], vectorised), then added to the sums in partner order; any other
/// block, or one with an amount the vectorised rounding cannot take, partner by partner. Both
/// apply [`retro_measure`] and [`retro_finish`] around the rounding, so the results are the
/// same bits; picked per run: AVX-512 where the CPU has it, else the portable build.
pub(super) fn retro_pass(run: RetroRun, o: &mut ScenarioOut) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq") {
            // SAFETY: the CPU supports AVX-512 F and DQ (checked just above)
            return unsafe { retro_pass_avx512(run, o) };
        }
    }
    retro_pass_kernel(run, o)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn retro_pass_avx512(run: RetroRun, o: &mut ScenarioOut) -> (f64, f64) {
    retro_pass_kernel(run, o)
}

/// A partner's revenue (from its purchases in minor units), the tiers of `k` it reaches and
/// the amount before rounding: `ladder_terms` of a retroactive revenue ladder of rates (no
/// basis cap), the reached tier's rate on all the volume, summed from +0.0, at least 0, and 0
/// below the first tier. Branch-free: the bounds are sorted (NaN past the last tier, never
/// met), so the tiers reached are the bounds met and the highest met gives the rate
/// (`rates[reached.max(1) − 1]`).
#[inline(always)]
fn retro_measure(k: &RetroComp, scale: f64, cents: f64) -> (f64, u64, f64) {
    let revenue = cents / scale;
    let v = if k.cumulative { 0.0 + revenue } else { revenue };
    let met = [
        v >= k.bounds[0],
        v >= k.bounds[1],
        v >= k.bounds[2],
        v >= k.bounds[3],
    ];
    // `r + 0.0` is `r` but for the sign of a zero rate, which `0.0 + rate · v` below erases
    // (v ≥ 0); it keeps the rates in registers, where the compiler would otherwise turn the
    // selection into a gather from `k.rates` (slow)
    let [r0, r1, r2, r3] = k.rates.map(|r| r + 0.0);
    let rate = if met[3] {
        r3
    } else if met[2] {
        r2
    } else if met[1] {
        r1
    } else {
        r0
    };
    let a = (0.0 + rate * v).max_of(0.0);
    let reached = met[0] as u64 + met[1] as u64 + met[2] as u64 + met[3] as u64;
    (revenue, reached, if met[0] { a } else { 0.0 })
}

/// The rounded amount's entitlement (a one-period window summed from +0.0 unless cumulative),
/// capped by the component cap; and the partner's payout (its one component's, summed from
/// +0.0).
#[inline(always)]
fn retro_finish(k: &RetroComp, rounded: f64) -> (f64, f64) {
    let e = if k.cumulative { rounded } else { 0.0 + rounded };
    let capped = e.min_of(k.cap);
    (capped, 0.0 + capped)
}

/// What [`retro_lanes`] gives per lane.
pub(super) struct RetroLanes {
    pub(super) revenue: [f64; block::LANES],
    pub(super) reached: [u64; block::LANES],
    pub(super) capped: [f64; block::LANES],
    pub(super) fin: [f64; block::LANES],
}

/// The payouts of a block of partners in one component `k`, from their purchases in minor
/// units, lane by lane (vectorised). `None` when the rounding must go partner by partner
/// ([`crate::rules::round_money_lanes`]).
#[inline(always)]
fn retro_lanes(
    prep: &Prepared<f64>,
    scale: f64,
    k: &RetroComp,
    cents: &[f64; block::LANES],
) -> Option<RetroLanes> {
    const L: usize = block::LANES;
    let mut revenue = [0.0; L];
    let mut reached = [0u64; L];
    let mut pre = [0.0; L];
    for l in 0..L {
        (revenue[l], reached[l], pre[l]) = retro_measure(k, scale, cents[l]);
    }
    let rounded = crate::rules::round_money_lanes(&pre, prep.rounding, prep.decimals)?;
    let mut capped = [0.0; L];
    let mut fin = [0.0; L];
    for l in 0..L {
        (capped[l], fin[l]) = retro_finish(k, rounded[l]);
    }
    Some(RetroLanes {
        revenue,
        reached,
        capped,
        fin,
    })
}

/// [`retro_pass`], compiled once per instruction set.
#[inline(always)]
fn retro_pass_kernel(run: RetroRun, o: &mut ScenarioOut) -> (f64, f64) {
    const L: usize = block::LANES;
    let RetroRun {
        prep,
        scale,
        nl,
        ps,
        rc,
        uniform,
    } = run;
    let n = ps.len();
    let mut total = 0.0;
    let mut revenue_sum = 0.0;
    for i0 in (0..n).step_by(L) {
        let nb = L.min(n - i0);
        let (c, seg) = ps[i0];
        if uniform[i0 / L] {
            let k = &rc[c as usize];
            let cents: &[f64; L] = o.partner_final[i0..i0 + L].try_into().unwrap();
            if let Some(b) = retro_lanes(prep, scale, k, cents) {
                // the sums, in partner order; the segment's and the component's in registers
                let (c, seg) = (c as usize, seg as usize);
                let mut comp = o.comp_payout[c];
                let mut seg_pay = o.seg_payout[seg];
                let mut seg_rev = o.seg_revenue[seg];
                for l in 0..L {
                    comp += b.capped[l];
                    total += b.fin[l];
                    seg_pay += b.fin[l];
                    seg_rev += b.revenue[l];
                    revenue_sum += b.revenue[l];
                }
                o.comp_payout[c] = comp;
                o.seg_payout[seg] = seg_pay;
                o.seg_revenue[seg] = seg_rev;
                o.partner_final[i0..i0 + L].copy_from_slice(&b.fin);
                for l in 0..L {
                    o.partner_tier[(i0 + l) * nl + k.l as usize] = b.reached[l] as u8;
                }
                // the tier counts (whole numbers: any order): `ge[t]` lanes reached tier t or
                // higher (one bit per lane, counted), so `ge[t] − ge[t + 1]` ended in tier t
                const { assert!(L <= 32, "one bit per lane in a u32") };
                let mut ge = [L as u32, 0, 0, 0, 0, 0];
                for (j, g) in ge[1..5].iter_mut().enumerate() {
                    let mut bits = 0u32;
                    for l in 0..L {
                        bits |= ((b.reached[l] > j as u64) as u32) << l;
                    }
                    *g = bits.count_ones();
                }
                for t in 0..=k.tiers as usize {
                    o.tiers[k.offset as usize + t] += ge[t] - ge[t + 1];
                }
                continue;
            }
        }
        // partner by partner
        for i in i0..i0 + nb {
            let (c, seg) = ps[i];
            let (revenue, fin) = if c == NONE {
                (o.partner_final[i] / scale, 0.0)
            } else {
                let k = &rc[c as usize];
                let (revenue, reached, pre) = retro_measure(k, scale, o.partner_final[i]);
                let (capped, fin) = retro_finish(k, prep.round(pre));
                o.tiers[k.offset as usize + reached as usize] += 1;
                o.partner_tier[i * nl + k.l as usize] = reached as u8;
                o.comp_payout[c as usize] += capped;
                (revenue, fin)
            };
            total += fin;
            o.partner_final[i] = fin;
            o.seg_payout[seg as usize] += fin;
            o.seg_revenue[seg as usize] += revenue;
            revenue_sum += revenue;
        }
    }
    (total, revenue_sum)
}
