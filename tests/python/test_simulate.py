"""The Monte Carlo engine from Python: inputs, results, reproducibility, compare, errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs
from conftest import run_cli


def programme(rate="1%", budget=None):
    return rs.Programme.new(
        "Sim", "EUR", "2027-01-01", "quarter", 4,
        [rs.volume("vol", [(20_000, rate), (40_000, "2%")])],
        segments=["small", "large"], budget=budget,
    )


@pytest.fixture(scope="module")
def population():
    return rs.Population.synthetic(
        {"small": {"count": 150, "median_baseline": 100_000, "dispersion": 0.5},
         "large": {"count": 50, "median_baseline": 400_000, "dispersion": 0.3}},
        seed=3,
    )


MODEL = {"noise": {"sigma": 0.25}, "market": {"sigma": 0.1}, "partner_factor": {"sigma": 0.1}}


def test_simulate_results(population):
    r = rs.simulate(programme(budget=150_000), population, MODEL, scenarios=120, seed=5, progress=False)
    assert r.n_scenarios == 120 and r.seed == 5 and r.currency == "EUR"
    assert r.payout.shape == (120,) and (r.payout >= 0).all()
    assert (r.payout <= 150_000 + 1e-6).all()
    s = r.summary
    assert {"mean", "mean_se", "p95", "p95_se", "p_exceed"} <= set(s.columns)
    assert s.loc["payout", "mean"] == pytest.approx(r.payout.mean())
    assert s.loc["payout", "mean_se"] == pytest.approx(r.payout.std(ddof=1) / np.sqrt(120))
    p, se = r.budget_binding
    assert 0 <= p <= 1 and se >= 0
    per = r.per_scenario
    assert list(per.columns[:3]) == ["payout", "payout_before_budget", "budget_binds"]
    assert per["budget_binds"].dtype == bool
    seg = r.by_segment()
    assert list(seg.index) == ["large", "small"]
    assert seg["payout_mean"].sum() == pytest.approx(r.payout.mean())
    comp = r.by_component()
    assert comp.loc["vol", "payout_mean"] == pytest.approx(r.payout.mean())
    tc = r.tier_counts
    assert tc.shape == (120, 1, 3) and (tc.sum(axis=2) == 200).all()
    assert r.tiers["mean_partners"].sum() == pytest.approx(200)
    parts = r.partners
    assert len(parts) == 200 and {"p_vol_t1", "p_vol_t2"} <= set(parts.columns)
    assert ((parts["p_vol_t2"] <= parts["p_vol_t1"] + 1e-12)).all()
    assert parts["expected_payout"].sum() == pytest.approx(r.payout.mean())
    acc = r.accrual
    assert len(acc) >= 12
    assert "Simulation" in r._repr_html_() and repr(r).startswith("<SimulationResult 'Sim'")
    json.loads(r.to_json())
    # the class is shown (and documented) as the public module's, not its private file's
    assert type(r).__module__ == "rebatesim.simulation" and type(r) is rs.SimulationResult


def test_threads_do_not_change_results(population):
    a = rs.simulate(programme(), population, MODEL, scenarios=64, seed=9, threads=1, progress=False)
    b = rs.simulate(programme(), population, MODEL, scenarios=64, seed=9, threads=2, chunk_size=7, progress=False)
    assert np.array_equal(a.payout, b.payout)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_progress_callback_and_interrupt(population):
    calls = []
    rs.simulate(programme(), population, MODEL, scenarios=50, chunk_size=10, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (50, 50) and len(calls) == 5

    def stop(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rs.simulate(programme(), population, MODEL, scenarios=50, chunk_size=10, progress=stop)


def test_precision_control(population):
    r = rs.simulate(programme(), population, MODEL, scenarios=100, precision=("mean", 1e12), max_scenarios=2000, progress=False)
    assert r.precision_met is True and r.n_scenarios < 2000


def test_compare_common_random_numbers(population):
    c = rs.compare({"A": programme("1%"), "B": programme("1.5%")}, population, MODEL, scenarios=80, seed=2, progress=False)
    assert c.names == ["A", "B"]
    d = c.differences.loc["B"]
    diff = c["B"].payout - c["A"].payout
    assert d["payout_mean"] == pytest.approx(diff.mean())
    assert d["payout_se"] == pytest.approx(diff.std(ddof=1) / np.sqrt(80))
    assert (diff >= -1e-9).all()  # a richer tier 1 never pays less on the same draws
    assert c["A"].summary.loc["revenue", "mean"] == pytest.approx(c["B"].summary.loc["revenue", "mean"], rel=0.2)
    assert "Paired differences" in c._repr_html_()
    assert "B − A" in repr(c)


def test_population_from_dataframe_and_csv(tmp_path):
    df = pd.DataFrame({"partner_id": ["a", "b"], "segment": ["small", "large"], "baseline_revenue": [100_000.0, 300_000.0]})
    pop = rs.Population.from_csv(df)
    assert len(pop) == 2 and pop.partner_ids == ["a", "b"]
    f = tmp_path / "p.csv"
    df.to_csv(f, index=False)
    r1 = rs.simulate(programme(), df, None, scenarios=3, progress=False)
    r2 = rs.simulate(programme(), f, rs.Model.default(), scenarios=3, progress=False)
    assert np.array_equal(r1.payout, r2.payout)


def test_model_round_trip_and_errors(tmp_path):
    m = rs.Model.from_dict(MODEL)
    assert rs.Model.from_toml(m.to_toml()) == m
    assert rs.Model.from_yaml(m.to_yaml()) == m
    with pytest.raises(rs.ModelError) as info:
        rs.Model.from_dict({"noise": {"sigma": -1}})
    assert isinstance(info.value, ValueError) and info.value.path.startswith("noise")
    f = tmp_path / "m.toml"
    f.write_text("[noise]\nsigma = 0.2\n[market]\nsigmaa = 0.1\n")
    with pytest.raises(rs.ModelError) as info:
        rs.Model.from_file(f)
    assert info.value.line == 4 and "m.toml" in str(info.value)


def test_bad_requests(population):
    with pytest.raises(rs.RequestError):
        rs.simulate(programme(), population, MODEL, scenarios=0, progress=False)
    with pytest.raises(rs.RequestError, match="memory"):
        rs.simulate(programme(), population, MODEL, scenarios=10_000, memory_limit=1000, progress=False)
    with pytest.raises(rs.RequestError, match="statistic"):
        rs.simulate(programme(), population, MODEL, precision=("p-high", 1.0), progress=False)
    # run options checked in Python, each error naming its option
    with pytest.raises(rs.RequestError, match=r"chunk_size: expected a whole number, found 'x'"):
        rs.simulate(programme(), population, MODEL, scenarios=5, chunk_size="x", progress=False)
    with pytest.raises(rs.RequestError, match="memory_limit: expected at least 1, found -5"):
        rs.simulate(programme(), population, MODEL, scenarios=5, memory_limit=-5, progress=False)
    with pytest.raises(rs.RequestError, match="max_scenarios: expected a whole number, found 2.5"):
        rs.sensitivity(programme(), population, MODEL, scenarios=5, max_scenarios=2.5, progress=False)
    with pytest.raises(rs.RequestError, match="two designs"):
        rs.compare({"A": programme()}, population, MODEL, progress=False)
    other = rs.Population.synthetic({"tiny": {"count": 2, "median_baseline": 1000}})
    with pytest.raises(rs.DataError, match="tiny"):
        rs.simulate(programme(), other, MODEL, scenarios=2, progress=False)


def test_cli_simulate_and_compare(tmp_path):
    p = tmp_path / "a.toml"
    programme().save(p)
    b = tmp_path / "b.toml"
    rs.Programme.from_dict({**programme("1.5%").to_dict(), "name": "Sim B"}).save(b)
    partners = tmp_path / "partners.csv"
    pd.DataFrame({"partner_id": [f"p{i}" for i in range(40)], "segment": ["small"] * 30 + ["large"] * 10,
                  "baseline_revenue": np.linspace(50_000, 500_000, 40)}).to_csv(partners, index=False)
    model = tmp_path / "model.toml"
    rs.Model.from_dict(MODEL).to_toml()
    model.write_text(rs.Model.from_dict(MODEL).to_toml())
    r = run_cli(["simulate", "--programme", str(p), "--partners", str(partners), "--model", str(model), "--scenarios", "50"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "payout" in r.stdout and "±" in r.stdout
    out = tmp_path / "sim"
    r = run_cli(["simulate", "--programme", str(p), "--partners", str(partners), "--model", str(model), "--scenarios", "20", "--out", str(out)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert (out / "summary.csv").is_file() and (out / "partners.csv").is_file()
    r = run_cli(["simulate", "--programme", str(p), "--partners", str(partners), "--scenarios", "20", "--json"], tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["meta"]["scenarios"] == 20
    r = run_cli(["compare", "--programme", str(p), "--programme", str(b), "--partners", str(partners), "--model", str(model), "--scenarios", "30"], tmp_path)
    assert r.returncode == 0, r.stderr
    # short labels (cli.design_labels): "Sim B" is shown as "B", named in a legend line
    assert "B: Sim B (" in r.stdout and "B − Sim" in r.stdout
    # the model gives no margin rate: the ROI column says n/a, and a line says why
    assert "ROI n/a: no margin rate" in r.stdout
    r = run_cli(["simulate", "--programme", str(p), "--partners", str(partners), "--model", str(tmp_path / "nope.toml"), "--out", str(tmp_path / "x")], tmp_path)
    assert r.returncode == 1 and "nope.toml" in r.stderr and not (tmp_path / "x").exists()


# Per-segment ROI and deadweight share, and their paired differences, on a tiny deterministic
# population computed by hand (tests/engine_segments.rs has the same figures): demand is the
# baseline; one yearly retroactive ladder pays `rate` on all volume from 50,000; uplift
# elasticity 5 multiplies A1's and B1's demand by 1 + 5 · rate (B2 and C1 are never paid).
TINY = pd.DataFrame({
    "partner_id": ["A1", "B1", "B2", "C1"], "segment": ["a", "b", "b", "c"],
    "baseline_revenue": [120_000.0, 60_000.0, 48_000.0, 12_000.0], "margin_rate": [0.3, 0.1, 0.1, 0.3],
})
UPLIFT = {"behaviour": {"uplift": {"elasticity": 5}}}


def yearly(rate, budget=None):
    return rs.Programme.new(rate, "EUR", "2027-01-01", "year", 1, [rs.volume("vol", [(50_000, rate)])],
                            segments=["a", "b", "c"], budget=budget)


def test_segment_roi_and_deadweight_by_hand():
    r = rs.simulate(yearly("2%"), TINY, UPLIFT, scenarios=3, progress=False)
    seg = r.by_segment()
    # A1 buys 132,000 instead of 120,000 and is paid 2,640 (2,400 on the counterfactual)
    assert seg.loc["a", "revenue_mean"] == pytest.approx(132_000)
    assert seg.loc["a", "revenue_counterfactual_mean"] == pytest.approx(120_000)
    assert seg.loc["a", "incremental_revenue_mean"] == pytest.approx(12_000)
    assert seg.loc["a", "incremental_margin_mean"] == pytest.approx(3_600)
    assert seg.loc["a", "payout_counterfactual_mean"] == pytest.approx(2_400)
    assert seg.loc["b", "incremental_margin_mean"] == pytest.approx(600)
    assert seg.loc["a", "roi_mean"] == pytest.approx(4 / 11)
    assert seg.loc["b", "roi_mean"] == pytest.approx(-6 / 11)
    assert seg.loc["a", "deadweight_share_mean"] == pytest.approx(10 / 11)
    assert seg.loc["a", "roi_se"] == pytest.approx(0, abs=1e-12)
    # never paid: no ROI (NaN), as the total's ROI when nothing is paid
    assert np.isnan(seg.loc["c", "roi_mean"]) and np.isnan(seg.loc["c", "deadweight_share_mean"])
    assert seg.loc["c", "payout_mean"] == 0.0
    # the additive per-segment figures add up to the totals
    s = r.summary
    for key in ("payout", "revenue", "revenue_counterfactual", "incremental_revenue", "incremental_margin",
                "payout_counterfactual"):
        assert seg[f"{key}_mean"].sum() == pytest.approx(s.loc[key, "mean"], rel=1e-12), key
    m = r._mat
    assert m["segment_roi"].shape == (3, 3)
    assert np.allclose(m["segment_incremental_margin"].sum(axis=1), r.per_scenario["incremental_margin"])
    # shown in the notebook display and written with the CSVs
    assert "Deadweight share" in r._repr_html_()
    assert "roi_mean" in r._csv_files()["segments.csv"].splitlines()[0]


def test_segment_roi_with_a_binding_budget():
    # 3,960 before the budget → 3,700: segment payouts × 3,700/3,960; the counterfactual
    # payout (3,600) is under the budget. ROI a = 17/37, b = −19/37; deadweight before the
    # cut (it cuts with and without the programme alike): 2,400 / 2,640 = 10/11
    r = rs.simulate(yearly("2%", budget=3_700), TINY, UPLIFT, scenarios=2, progress=False)
    seg = r.by_segment()
    assert seg.loc["a", "roi_mean"] == pytest.approx(17 / 37)
    assert seg.loc["b", "roi_mean"] == pytest.approx(-19 / 37)
    assert seg.loc["b", "deadweight_share_mean"] == pytest.approx(10 / 11)
    # a budget under the counterfactual payout too: after the cut both pay 3,000 (a share of 1
    # whatever the programme did); before it 3,600 of 3,960 would be paid anyway
    r = rs.simulate(yearly("2%", budget=3_000), TINY, UPLIFT, scenarios=2, progress=False)
    assert r.summary.loc["deadweight_share", "mean"] == pytest.approx(10 / 11)
    assert r.summary.loc["deadweight_share", "mean"] < 0.95
    assert seg["payout_counterfactual_mean"].sum() == pytest.approx(3_600)


def test_segment_roi_without_behaviour(population):
    # no behaviour (the fast path): nothing is incremental, every paid segment's deadweight is 1
    r = rs.simulate(programme(budget=150_000), population, {**MODEL, "economics": {"margin_rate": 0.25}},
                    scenarios=40, seed=4, progress=False)
    seg = r.by_segment()
    assert (seg["incremental_revenue_mean"] == 0).all() and (seg["incremental_margin_mean"] == 0).all()
    assert np.allclose(seg["deadweight_share_mean"], 1.0) and np.allclose(seg["roi_mean"], -1.0)
    assert np.allclose(r._mat["segment_payout_counterfactual"], r._mat["segment_payout"])
    assert seg["payout_counterfactual_mean"].sum() == pytest.approx(r.summary.loc["payout_counterfactual", "mean"])


def test_compare_roi_and_deadweight_differences():
    # ROI (7/6)/(1 + 5ρ) − 1: A (2%) 2/33, B (1%) 1/9, B − A = 5/99; deadweight 1/(1 + 5ρ): B − A = 10/231
    c = rs.compare({"A": yearly("2%"), "B": yearly("1%"), "C": yearly("0%")}, TINY, UPLIFT, scenarios=4,
                   progress=False)
    d = c.differences
    assert d.loc["B", "roi_mean"] == pytest.approx(5 / 99)
    assert d.loc["B", "roi_se"] == 0.0
    assert d.loc["B", "deadweight_share_mean"] == pytest.approx(10 / 231)
    assert d.loc["B", "roi_n"] == 4
    # C pays nothing: no ROI in any scenario, so no difference (NaN), as the totals' summaries
    assert np.isnan(d.loc["C", "roi_mean"]) and d.loc["C", "roi_n"] == 0
    assert c._segments().loc["a", "B: roi_mean"] == pytest.approx(1.5 / 1.05 - 1)
    assert "ROI" in c._repr_html_()
