//! The evidence of a forecast's conditioning ([`super::CondEngine::new`]): each partner's actual
//! monthly purchases to date turned into log observations, accumulated into the precision `q`
//! and linear term `h` of the Gaussian posterior over θ (prior N(0, I)), with each partner's
//! factor integrated out. Regular buyers contribute month by month, others one aggregated
//! observation (see [`super::posterior::classify_buyers`]).

use super::posterior::{market_shift, market_var};
use super::{Observed, MIN_NOISE_VAR};
use crate::demand::{MarketProcess, MarketStart};
use crate::engine::setup::Setup;

/// The rows of θ's coefficients: θ = (market innovations, segment factors).
pub(super) struct ThetaRows<'a, 'p> {
    pub s: &'a Setup<'p>,
    /// Market innovations in θ (0: no market uncertainty).
    pub dm: usize,
    /// Index in θ of each segment's factor.
    pub seg_dim: &'a [Option<usize>],
    /// `rows × dm`: x_m = Σ_j lmat[m][j] z_j.
    pub lmat: &'a [f64],
}

impl ThetaRows<'_, '_> {
    /// The row of θ's coefficients for an observation in month `m` of segment `g`.
    fn fill(&self, m: usize, g: usize, out: &mut [f64]) {
        let dm = self.dm;
        out.iter_mut().for_each(|v| *v = 0.0);
        if dm > 0 {
            let r = if self.s.market.process == MarketProcess::Constant {
                0
            } else {
                m
            };
            out[..dm].copy_from_slice(&self.lmat[r * dm..(r + 1) * dm]);
        }
        if let Some(j) = self.seg_dim[g] {
            out[j] = self.s.segs[g].segment;
        }
    }
}

/// The posterior's sums over all partners and what each partner contributed.
pub(super) struct Evidence {
    /// `d × d` precision of θ (prior: identity).
    pub q: Vec<f64>,
    /// Linear term of θ's posterior (q·μ = h).
    pub h: Vec<f64>,
    /// Per partner: Σ y over used months, and their number.
    pub ysum: Vec<f64>,
    pub nobs: Vec<u32>,
    /// `n × t_obs`: month used in the conditioning.
    pub used: Vec<bool>,
    /// Aggregated observations: weights `n × t_obs`, value and noise variance per partner.
    pub agg_w: Vec<f64>,
    pub agg_y: Vec<f64>,
    pub agg_s2: Vec<f64>,
    d: usize,
    t: usize,
    // scratch rows
    row: Vec<f64>,
    a1: Vec<f64>,
    ay: Vec<f64>,
    ata: Vec<f64>,
}

impl Evidence {
    /// Condition on the actuals of every partner that bought: month by month for `regular`
    /// buyers, one aggregated observation for the others.
    pub(super) fn gather(
        rows: &ThetaRows,
        obs: &Observed,
        last_bought: &[Option<usize>],
        regular: &[bool],
        incidence: &[f64],
        d: usize,
    ) -> Evidence {
        let n = rows.s.partners.len();
        let t = obs.t_obs;
        let mut ev = Evidence::prior(n, t, d);
        for i in 0..n {
            if t == 0 {
                break;
            }
            let Some(last) = last_bought[i] else {
                continue;
            };
            if !regular[i] {
                ev.add_aggregated(rows, obs, i, last, incidence[i]);
            } else {
                ev.add_monthly(rows, obs, i, last, incidence[i]);
            }
        }
        ev
    }

    /// No evidence yet: the prior N(0, I) over θ.
    fn prior(n: usize, t: usize, d: usize) -> Evidence {
        let mut q = vec![0.0; d * d];
        for j in 0..d {
            q[j * d + j] = 1.0;
        }
        Evidence {
            q,
            h: vec![0.0; d],
            ysum: vec![0.0; n],
            nobs: vec![0u32; n],
            used: vec![false; n * t],
            agg_w: vec![0.0; n * t],
            agg_y: vec![0.0; n],
            agg_s2: vec![0.0; n],
            d,
            t,
            row: vec![0.0; d],
            a1: vec![0.0; d],
            ay: vec![0.0; d],
            ata: vec![0.0; d * d],
        }
    }

    /// One aggregated observation of partner `i`: months 0..=last, weights w_m = E_m / Σ E.
    /// With purchase incidence `p` < 1 each month is `B·D/p` (`B` Bernoulli(p)), so the total
    /// keeps its expectation and its relative variance is `Σ w_m² (e^{σE²}/p − 1)`.
    fn add_aggregated(
        &mut self,
        rows: &ThetaRows,
        obs: &Observed,
        i: usize,
        last: usize,
        incidence: f64,
    ) {
        let (s, d, t) = (rows.s, self.d, self.t);
        let mk = &s.market;
        let pc = &s.partners[i];
        let g = pc.seg;
        let sc = &s.segs[g];
        let sm = &s.seg_month[g * s.months..(g + 1) * s.months];
        let sp2 = sc.partner * sc.partner;
        let mut esum = 0.0;
        let mut asum = 0.0;
        for m in 0..=last {
            esum += pc.base_month * sm[m] * pc.uplift;
            asum += obs.gross[i * t + m];
        }
        if !(esum > 0.0) || !(asum > 0.0) {
            return;
        }
        let w = &mut self.agg_w[i * t..(i + 1) * t];
        let (mut w2, mut wv) = (0.0, 0.0);
        for m in 0..=last {
            w[m] = pc.base_month * sm[m] * pc.uplift / esum;
            w2 += w[m] * w[m];
            wv += w[m] * market_var(mk, m);
        }
        // Fenton–Wilkinson: the log of a weighted mean of mean-one lognormal noises
        let spread = if incidence < 1.0 {
            (sc.noise * sc.noise).exp() / incidence - 1.0
        } else {
            (sc.noise * sc.noise).exp_m1()
        };
        let s2 = (spread * w2).ln_1p().max(MIN_NOISE_VAR);
        let y = if mk.start == MarketStart::History {
            let shift: f64 = (0..=last).map(|m| w[m] * market_shift(s, m)).sum();
            (asum / esum).ln() - shift + 0.5 * (sc.segment * sc.segment + sp2 + s2)
        } else {
            (asum / esum).ln() + 0.5 * (wv + sc.segment * sc.segment + sp2 + s2)
        };
        self.agg_y[i] = y;
        self.agg_s2[i] = s2;
        self.nobs[i] = (last + 1) as u32;
        if d > 0 {
            let (row, a1) = (&mut self.row, &mut self.a1);
            row.iter_mut().for_each(|v| *v = 0.0);
            for m in 0..=last {
                rows.fill(m, g, a1);
                for a in 0..d {
                    row[a] += w[m] * a1[a];
                }
            }
            let var = sp2 + s2;
            for a in 0..d {
                self.h[a] += row[a] * y / var;
                for b in 0..d {
                    self.q[a * d + b] += row[a] * row[b] / var;
                }
            }
        }
    }

    /// Partner `i` month by month (months 0..=last with a purchase and positive expected
    /// demand), its factor integrated out by Sherman–Morrison. A buying month under purchase
    /// incidence `p` carries its demand ÷ `p`, so its expected revenue is `E_m / p`.
    fn add_monthly(
        &mut self,
        rows: &ThetaRows,
        obs: &Observed,
        i: usize,
        last: usize,
        incidence: f64,
    ) {
        let (s, d, t) = (rows.s, self.d, self.t);
        let pc = &s.partners[i];
        let g = pc.seg;
        let sc = &s.segs[g];
        let sm = &s.seg_month[g * s.months..(g + 1) * s.months];
        let se2 = (sc.noise * sc.noise).max(MIN_NOISE_VAR);
        let sp2 = sc.partner * sc.partner;
        let offset_const = 0.5 * (sc.segment * sc.segment + sp2 + sc.noise * sc.noise);
        let limit = last + 1;
        let (row, a1, ay, ata) = (&mut self.row, &mut self.a1, &mut self.ay, &mut self.ata);
        a1.iter_mut().for_each(|v| *v = 0.0);
        ay.iter_mut().for_each(|v| *v = 0.0);
        ata.iter_mut().for_each(|v| *v = 0.0);
        let (mut sy, mut k) = (0.0, 0u32);
        for m in 0..limit {
            let actual = obs.gross[i * t + m];
            let expected = pc.base_month * sm[m] * pc.uplift / incidence;
            if !(actual > 0.0) || !(expected > 0.0) {
                continue;
            }
            let y = (actual / expected).ln() - market_shift(s, m) + offset_const;
            self.used[i * t + m] = true;
            sy += y;
            k += 1;
            if d > 0 {
                rows.fill(m, g, row);
                for a in 0..d {
                    a1[a] += row[a];
                    ay[a] += row[a] * y;
                    if row[a] != 0.0 {
                        for b in 0..d {
                            ata[a * d + b] += row[a] * row[b];
                        }
                    }
                }
            }
        }
        self.ysum[i] = sy;
        self.nobs[i] = k;
        if k == 0 || d == 0 {
            return;
        }
        let c = sp2 / (se2 + k as f64 * sp2);
        for a in 0..d {
            self.h[a] += (ay[a] - c * a1[a] * sy) / se2;
            for b in 0..d {
                self.q[a * d + b] += (ata[a * d + b] - c * a1[a] * a1[b]) / se2;
            }
        }
    }
}
