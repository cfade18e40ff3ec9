"""What analysts and readers stumbled on (issue 20): segments, budget risk, charts, outputs and
API consistency. Each test runs in about a second."""

from __future__ import annotations

import io
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs
from rebatesim.cli import demo_check, design_labels

MODEL = {"noise": {"sigma": 0.25}, "market": {"sigma": 0.15}}


def two_segment_population(seed=4):
    return rs.Population.synthetic(
        {"a": {"count": 60, "median_baseline": 90_000, "dispersion": 0.4, "margin_rate": 0.3},
         "b": {"count": 40, "median_baseline": 200_000, "dispersion": 0.3, "margin_rate": 0.2}}, seed=seed)


def shared_ladder(rate="2%", budget=None):
    """One ladder shared by segments a and b, and one of b's own."""
    return rs.Programme.new(
        f"Shared {rate}", "EUR", "2027-01-01", "year", 1,
        [rs.volume("shared", [(60_000, "1%"), (120_000, rate), (250_000, "3%")], segments=["a", "b"]),
         rs.volume("b_only", [(150_000, "0.5%")], segments=["b"])],
        segments=["a", "b"], budget=budget)


# ------------------------------------------------------------------ segments
def test_tier_attainment_per_segment_of_a_shared_ladder():
    r = rs.simulate(shared_ladder(), two_segment_population(), MODEL, scenarios=80, seed=2, progress=False)
    t = r.tiers_by_segment()
    shared = t[t.component == "shared"]
    # one block per segment, each with "below tier 1" and the ladder's thresholds
    assert sorted(shared.segment.unique()) == ["a", "b"]
    assert list(shared[shared.segment == "a"].tier) == [0, 1, 2, 3]
    assert list(shared[shared.segment == "a"].threshold) == ["< 60000", "≥ 60000", "≥ 120000", "≥ 250000"]
    # a segment's expected partners add up to its partners; the segments add up to the ladder's counts
    assert shared.groupby("segment")["partners"].sum().round(9).to_dict() == {"a": 60.0, "b": 40.0}
    assert t[t.component == "b_only"].segment.unique().tolist() == ["b"]
    overall = r.tiers.set_index(["component", "tier"])["mean_partners"]
    per = t.groupby(["component", "tier"])["partners"].sum()
    assert np.allclose(per.sort_index().to_numpy(), overall.sort_index().to_numpy())
    # the bigger segment reaches the higher tiers more often
    share = shared.set_index(["segment", "tier"])["share"]
    assert share["b", 3] > share["a", 3] and share["a", 0] > share["b", 0]
    # the report's chart and table show them, with the thresholds
    rep = rs.simulation_report(r, excel=False)
    page = rep.to_html()
    assert "below tier 1" in page and "≥ 120000" in page
    assert "a: 60k / 120k / 250k" in rep.charts["tier_attainment"].to_svg()


def test_comparison_by_segment_reproduces_a_hand_recomputation():
    pop = two_segment_population()
    c = rs.compare({"low": shared_ladder("1.5%"), "high": shared_ladder("2.5%")}, pop,
                   {**MODEL, "behaviour": {"uplift": {"elasticity": 3}}}, scenarios=60, seed=9, progress=False)
    d = c.by_segment()
    assert list(d.index) == [("high", "a"), ("high", "b")]
    assert (d["reference"] == "low").all()
    lo, hi = c["low"], c["high"]
    for j, seg in enumerate(["a", "b"]):
        for key in ("payout", "incremental_margin", "roi"):
            diff = hi._mat[f"segment_{key}"][:, j] - lo._mat[f"segment_{key}"][:, j]
            diff = diff[np.isfinite(diff)]
            assert d.loc[("high", seg), f"{key}_mean"] == pytest.approx(diff.mean(), rel=1e-12)
            assert d.loc[("high", seg), f"{key}_se"] == pytest.approx(diff.std(ddof=1) / np.sqrt(len(diff)), rel=1e-12)
    # the segments' payout differences add up to the per-scenario total's paired difference
    total = hi.per_scenario["payout"] - lo.per_scenario["payout"]
    assert d["payout_mean"].sum() == pytest.approx(total.mean(), rel=1e-9)
    assert c.differences.loc["high", "payout_mean"] == pytest.approx(total.mean(), rel=1e-9)
    # pairing: the paired standard error is far below the designs' own
    assert d.loc[("high", "a"), "payout_se"] < 0.5 * c["high"].by_segment().loc["a", "payout_se"]


def test_one_segment_alone_warns_about_the_others_settings():
    pop_a = rs.Population.synthetic({"a": {"count": 30, "median_baseline": 90_000}}, seed=1)
    model = rs.Model.from_dict({**MODEL, "noise": {"sigma": 0.25, "segments": {"a": 0.2, "b": 0.4}},
                                "growth": {"rate": 0.02, "segments": {"b": 0.05}}})
    with pytest.warns(UserWarning, match=r"noise\.segments\.b: segment 'b' is not a segment of the population"):
        r = rs.simulate(shared_ladder(), pop_a, model, scenarios=20, seed=3, progress=False)
    # the same as the model without b's settings
    alone = rs.Model.from_dict({**MODEL, "noise": {"sigma": 0.25, "segments": {"a": 0.2}}, "growth": {"rate": 0.02}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref = rs.simulate(shared_ladder(), pop_a, alone, scenarios=20, seed=3, progress=False)
    assert np.array_equal(r.payout, ref.payout)
    assert "b" not in r.model.to_dict()["noise"]["segments"]


# ---------------------------------------------------------------- budget risk
def test_comparison_shows_the_payout_before_the_budget_cut():
    pop = two_segment_population()
    c = rs.compare({"low": shared_ladder("2%", budget=150_000), "high": shared_ladder("3%", budget=150_000)},
                   pop, MODEL, scenarios=80, seed=1, progress=False)
    s = c.summary
    # both held at the budget at P95: the same after the cut, apart before it
    assert s.loc["low", "payout_p95"] == pytest.approx(150_000) and s.loc["high", "payout_p95"] == pytest.approx(150_000)
    assert s.loc["high", "payout_before_budget_p95"] > s.loc["low", "payout_before_budget_p95"] > 150_000
    for name in ("low", "high"):
        per = c[name].per_scenario
        cut = per["payout_before_budget"] - per["payout"]
        assert s.loc[name, "budget_cut_mean"] == pytest.approx(cut.mean())
        assert s.loc[name, "budget_cut_mean_se"] == pytest.approx(cut.std(ddof=1) / np.sqrt(len(cut)))
    rep = rs.comparison_report(c, excel=False)
    page = rep.to_html()
    assert "P95 before budget" in page and "Expected budget cut" in page
    svg = rep.charts["risk_return"].to_svg()
    assert "before the budget cut" in svg
    assert "Expected cut" in c._repr_html_()
    # the reference in full, the other design as its differences
    assert "component shared: tiers" in page and "Design: high, against low" in page


def test_deadweight_share_is_meaningful_when_the_budget_binds():
    pop = two_segment_population()
    model = {**MODEL, "behaviour": {"uplift": {"elasticity": 3}}}
    r = rs.simulate(shared_ladder(budget=60_000), pop, model, scenarios=40, seed=2, progress=False)
    per = r.per_scenario
    assert per["budget_binds"].all() and (per["payout_counterfactual"] >= 60_000 - 1e-6).all()
    # after the cut both payouts are the budget; before it part of the payout is incremental
    assert r.summary.loc["deadweight_share", "mean"] < 0.99
    assert r.summary.loc["incremental_revenue", "mean"] > 0


def test_roi_na_says_why():
    pop = rs.Population.synthetic({"a": {"count": 20, "median_baseline": 90_000}}, seed=1)
    r = rs.simulate(shared_ladder(), pop, MODEL, scenarios=10, progress=False)
    assert np.isnan(r.summary.loc["roi", "mean"])
    assert "no margin rate" in r._repr_html_() and "economics.margin_rate" in r._repr_html_()
    from rebatesim._display import simulation_text
    assert "ROI n/a: no margin rate" in simulation_text(r)


def test_demo_check_compares_before_the_budget_cut():
    p = rs.Programme.from_file(rs.example_path("programme.toml"))
    r = rs.simulate(p, rs.example_path("partners.csv"), rs.example_path("model.toml"), scenarios=6, seed=1,
                    progress=False)
    s = rs.settle(p, rs.example_path("partners.csv"), rs.example_path("transactions.csv"))
    check = demo_check(r, s)
    t = s.totals
    assert t["adj_budget_cut"] < 0  # the budget binds in the actual year
    assert check["actual_before_budget"] == pytest.approx(float(t["payable"] - t["adj_budget_cut"]))
    before = r.per_scenario["payout_before_budget"]
    assert check["share_of_scenarios_at_or_below_actual"] == pytest.approx((before <= check["actual_before_budget"]).mean())
    assert set(check["components"]) == set(r.meta["components"])
    # per component, before the cut: the components add up to the total, actual and forecast
    comps = check["components"].values()
    assert sum(c["actual_before_budget"] for c in comps) == pytest.approx(check["actual_before_budget"], abs=0.01)
    assert sum(c["forecast_mean"] for c in comps) == pytest.approx(check["forecast_before_budget_mean"], rel=1e-9)


def test_demo_names_the_components_outside_the_forecast():
    from rebatesim._cli_demo import missed_components_text

    def check(**shares):
        return {"components": {c: {"share_of_scenarios_at_or_below_actual": v} for c, v in shares.items()}}

    assert missed_components_text(check(a=0.5, b=0.05, c=0.95)) == ""  # the band's edges are inside
    text = missed_components_text(check(a=0.5, cross_sell=1.0, smart=0.02))
    assert "above the forecast's central 90%: cross_sell (100% of the scenarios at or below the actual)" in text
    assert "below it: smart (2%)" in text and " a (" not in text
    assert text.endswith("cannot know what the history does not show (docs/calibration.md, the bundled example).")


# ------------------------------------------------------------ charts, reports
def test_cli_compare_labels_are_short():
    assert design_labels(["Stonebridge Building Supplies Trade Rewards 2028",
                          "Incremental Stonebridge Building Supplies Trade Rewards 2028"], ["a.toml", "b.toml"]) == \
        ["Stonebridge Building Supplies Trade Rewards 2028", "Incremental"]
    assert design_labels(["Rewards 2028 flat", "Rewards 2028 steep"], ["a", "b"]) == ["flat", "steep"]
    assert design_labels(["X", "X"], ["d/x.toml", "e/x.toml"]) == ["d/x.toml", "e/x.toml"]


def test_simulation_report_includes_the_demand_model():
    pop = two_segment_population()
    r = rs.simulate(shared_ladder(), pop, MODEL, scenarios=10, progress=False)
    page = rs.simulation_report(r, excel=False).to_html()
    assert "Demand model" in page and "sigma = 0.25" in page


def test_excel_has_native_charts_and_a_distribution_sheet(tmp_path):
    r = rs.simulate(shared_ladder(budget=150_000), two_segment_population(), MODEL, scenarios=60, progress=False)
    path = tmp_path / "r.xlsx"
    r.to_excel(path)
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 3  # distribution, accrual schedule, cash schedule
    dist = pd.read_excel(path, sheet_name="distribution", index_col=0)
    assert dist["share"].sum() == pytest.approx(1.0, abs=1e-6)
    assert dist.index[-1] == "held at the budget"
    assert dist.loc["held at the budget", "share"] == pytest.approx(r.budget_binding[0], abs=1e-6)


# ------------------------------------------------------------- numbers, API
def test_api_spellings_agree(tmp_path):
    import rebatesim

    assert "annotations" not in vars(rebatesim)
    s = rs.settle(rs.example_path("programme.toml"), rs.example_path("partners.csv"),
                  rs.example_path("transactions.csv"))
    assert s.summary["totals"]["payable"] == "18000000.00"
    assert s.summary() == s.summary  # the spelling before still works
    r = rs.simulate(shared_ladder(), two_segment_population(), MODEL, scenarios=5, progress=False)
    assert r.programme_name == "Shared 2%" and r.programme.name == r.programme_name


def test_population_and_model_displays_and_baselines():
    df = pd.DataFrame({"partner_id": ["P1", "P2", "P3"], "segment": ["a", "a", "b"],
                       "baseline_revenue": [100_000.0, None, 50_000.0], "margin_rate": [0.3, 0.2, None]})
    pop = rs.Population.from_csv(df)
    frame = pop.to_frame()
    assert frame["baseline_revenue"].tolist()[0] == 100_000.0 and np.isnan(frame["baseline_revenue"][1])
    assert np.isnan(frame["margin_rate"][2])
    assert pop.without_baseline() == ["P2"]
    assert "without a baseline" in pop._repr_html_()
    with pytest.warns(UserWarning, match=r"1 partner\(s\) without a baseline \(P2\)"):
        rs.simulate(shared_ladder(), pop, MODEL, scenarios=3, progress=False)
    m = rs.Model.from_dict(MODEL)
    assert "Demand model" in m._repr_html_() and "sigma" in m._repr_html_()


def test_cli_text_shows_roi_as_the_report_does():
    r = rs.simulate(shared_ladder(), two_segment_population(), MODEL, scenarios=10, progress=False)
    from rebatesim._display import simulation_text
    text = simulation_text(r)
    roi = r.summary.loc["roi", "mean"]
    assert rs.report.format_number(roi, "percent") in text
    buf = io.StringIO()
    json.dump(r.to_dict()["summary"]["roi"]["mean"], buf)  # the data keep the fraction
    assert abs(json.loads(buf.getvalue())["value"] - roi) < 1e-9
