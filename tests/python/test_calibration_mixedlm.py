"""The calibration's variance components against statsmodels' MixedLM (REML) on a small
balanced panel (docs/calibration.md, "Tests and recovery").

60 partners buy every month for three years: log purchases = partner level + month effect +
partner-year effect (variance σ_P²/2) + monthly noise (σ_e²). MixedLM fits month fixed
effects, a random partner intercept and a partner-year variance component; the calibration's
moment estimators must agree with it within their standard errors.
"""

import math

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs

smf = pytest.importorskip("statsmodels.formula.api")

SIGMA_E, SIGMA_P = 0.30, 0.20


def _panel(seed: int = 5, partners: int = 60, months: int = 36) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    month = rng.normal(0.0, 0.1, months)
    rows = []
    for i in range(partners):
        level = rng.normal(8.0, 0.8)
        year = rng.normal(0.0, SIGMA_P / math.sqrt(2), months // 12)
        for t in range(months):
            y = level + month[t] + year[t // 12] + rng.normal(0.0, SIGMA_E)
            rows.append((f"P{i:02d}", t, t // 12, y))
    return pd.DataFrame(rows, columns=["partner", "t", "year", "y"])


def test_variance_components_agree_with_mixedlm():
    df = _panel()
    history = pd.DataFrame({
        "partner_id": df.partner,
        "date": [f"{2024 + t // 12}-{t % 12 + 1:02d}-15" for t in df.t],
        "quantity": 1,
        "revenue": np.round(np.exp(df.y), 2),
    })
    c = rs.calibrate(history, draws=1, bootstrap=20, warn_segment_partners=0)
    est = c.estimates.set_index("parameter")
    noise, noise_se = est.loc["noise.sigma", ["value", "se"]]
    partner, partner_se = est.loc["partner_factor.sigma", ["value", "se"]]

    df["py"] = df.partner + "-" + df.year.astype(str)
    m = smf.mixedlm("y ~ C(t)", df, groups="partner", re_formula="1",
                    vc_formula={"py": "0 + C(year)"}).fit(reml=True)
    ml_noise = math.sqrt(m.scale)
    ml_partner_year_var = float(m.vcomp[0])
    ml_partner = math.sqrt(2 * ml_partner_year_var)  # the year-over-year change: 2 × the year effect's variance

    assert abs(noise - ml_noise) < 2 * noise_se, (noise, noise_se, ml_noise)
    assert abs(partner - ml_partner) < 2 * partner_se, (partner, partner_se, ml_partner)
    # and both near the truth
    assert abs(ml_noise - SIGMA_E) < 0.03 and abs(noise - SIGMA_E) < 0.03
    assert abs(partner - SIGMA_P) < 4 * partner_se
