"""Design search (rs.search, docs/search.md): the grid search against an exhaustive
evaluation done independently here (rs.simulate per design, the objective and the
Clopper–Pearson bound recomputed with scipy), constraints on the re-evaluation, an
infeasible space, space-file errors, the CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from scipy.stats import beta

import rebatesim as rs
from conftest import run_cli

THRESHOLDS = [60_000, 80_000, 100_000]
RATES = [1, 2, 3, 4]
CAPS = [2_000, 3_000, 4_000]
BUDGET = 200_000
SCENARIOS = 60

SPACE = {
    "parameter": [
        {"field": "components.vol.tiers[0].from", "from": 60_000, "to": 100_000, "step": 20_000},
        {"field": "components.vol.tiers[0].percent", "values": RATES},
        {"field": "components.vol.cap", "from": 2_000, "to": 4_000, "step": 1_000},
    ]
}

MODEL = {
    "noise": {"sigma": 0.25}, "market": {"sigma": 0.08}, "partner_factor": {"sigma": 0.15},
    "economics": {"margin_rate": 0.25},
    "behaviour": {"uplift": {"elasticity": 2.0},
                  "stretch": {"enabled": True, "window_months": 2, "max_shortfall": 0.15,
                              "max_probability": 0.8, "sensitivity": 10}},
}


def template(threshold=80_000, rate=2, cap=3_000, budget=BUDGET):
    return rs.Programme.from_dict({
        "name": "Search", "currency": "EUR", "start": "2027-01-01", "period": "year", "periods": 1,
        "segments": ["s"], "budget": budget,
        "components": [{"id": "vol", "kind": "volume", "basis": "revenue", "method": "retroactive",
                        "cap": cap, "tiers": [{"from": threshold, "percent": rate}]}],
    })


@pytest.fixture(scope="module")
def population():
    return rs.Population.synthetic(
        {"s": {"count": 120, "median_baseline": 80_000, "dispersion": 0.35, "margin_rate": 0.25}}, seed=2)


CONSTRAINT = {"kind": "chance", "threshold": "budget", "alpha": 0.2}


def exhaustive(population, alpha):
    """Every design simulated on its own, objective and bound computed here."""
    out = {}
    for t, r, c in itertools.product(THRESHOLDS, RATES, CAPS):
        res = rs.simulate(template(t, r, c), population, MODEL, scenarios=SCENARIOS, seed=3, progress=False)
        per = res.per_scenario
        net = (per["incremental_margin"] - per["payout"]).mean()
        k = int((per["payout_before_budget"] > BUDGET).sum())
        upper = 1.0 if k == SCENARIOS else float(beta.ppf(0.95, k + 1, SCENARIOS - k))
        out[(t, r, c)] = (net, upper <= alpha)
    return out


def test_search_finds_the_best_feasible_design_of_an_exhaustive_evaluation(population):
    truth = exhaustive(population, CONSTRAINT["alpha"])
    feasible = {k: v for k, (v, ok) in truth.items() if ok}
    assert 0 < len(feasible) < len(truth), "the constraint must bind for the test to mean something"
    top_value = max(feasible.values())
    best = {k for k, v in feasible.items() if v >= top_value - 1e-9 * abs(top_value)}  # ties (a cap that never binds)
    key = ["components.vol.tiers[0].from", "components.vol.tiers[0].percent", "components.vol.cap"]
    for evaluations in (36, 20):  # exhaustive grid, then coarse grid + coordinate search
        r = rs.search(template(), SPACE, population, MODEL, constraints=[CONSTRAINT], scenarios=SCENARIOS,
                      seed=3, budget_evaluations=evaluations, progress=False)
        assert r.evaluations <= evaluations
        d = r.designs
        top = d.iloc[0]
        assert tuple(top[key]) in best, (evaluations, r.method)
        assert top["objective"] == pytest.approx(top_value, rel=1e-9)
        # the search's feasibility agrees with the exhaustive one on every evaluated design
        for _, row in d.iterrows():
            assert bool(row["feasible"]) == truth[tuple(row[key])][1]
    # the chosen design meets the constraint on the independent block too
    assert r.feasible
    chosen = r.top[r.top["chosen"]].iloc[0]
    assert bool(chosen["feasible"]) and chosen[r.constraints[0] + " bound"] <= CONSTRAINT["alpha"]
    assert r.best.components[0]["cap"] == chosen["components.vol.cap"]
    assert np.isfinite(r.gap[0]) and r.gap[1] > 0
    assert "against the current design" in r.message
    _message_reads_like_money(r)
    # the Pareto chart renders with the front, the current and the chosen design
    svg = r.pareto_chart().to_svg()
    assert svg.startswith("<svg") and "Pareto front" in svg and "chosen" in svg


def test_an_infeasible_space_gets_a_clear_answer(population):
    r = rs.search(template(budget=20_000), SPACE, population, MODEL,
                  constraints=[{"kind": "chance", "threshold": "budget", "alpha": 0.05}],
                  scenarios=30, seed=1, budget_evaluations=36, top=2, progress=False)
    assert not r.feasible
    assert r.message.startswith("no design meets P(payout > budget) ≤ 5%; the closest is ")
    assert "components.vol.tiers[0].percent = 1" in r.message  # the cheapest rate comes closest


def test_objectives_and_other_constraints(population):
    for objective in ("roi", "payout_per_incremental_revenue", {"incremental_margin": 1.0, "payout": -1.0}):
        r = rs.search(template(), {"parameter": [SPACE["parameter"][1]]}, population, MODEL, objective=objective,
                      constraints=[{"kind": "percentile", "q": 0.95, "max": 1e9}, {"kind": "cvar", "max": 1e9},
                                   {"kind": "expected_payout", "max": 1e9, "segment": "s"}],
                      scenarios=30, seed=1, progress=False)
        assert r.evaluations == 4 and r.feasible
    with pytest.raises(rs.RequestError, match="objective"):
        rs.search(template(), SPACE, population, MODEL, objective="profit", progress=False)
    with pytest.raises(rs.RequestError, match=r"constraints\[0\].kind"):
        rs.search(template(), SPACE, population, MODEL, constraints=[{"kind": "p99"}], progress=False)


def test_space_errors_name_the_field_and_line(tmp_path, population):
    f = tmp_path / "space.toml"
    f.write_text('[[parameter]]\nfield = "components.vol.cap"\nfrom = 1000\nto = 3000\nstep = -5\n')
    with pytest.raises(rs.SearchSpaceError) as e:
        rs.search(template(), f, population, MODEL, progress=False)
    msg = str(e.value)
    assert "space.toml" in msg and "parameter[0].step" in msg and "positive step" in msg and "line 5" in msg
    # one prefix, naming the space; the field located like a programme error (and still a RequestError)
    assert msg.startswith("invalid search space: ") and "invalid request" not in msg
    assert isinstance(e.value, rs.RequestError)
    assert (e.value.path, e.value.line, e.value.column) == ("parameter[0].step", 5, 1)
    assert "positive step" in e.value.reason
    f.write_text('[[parameter]]\nfield = "components.nope.cap"\nvalues = [1]\n')
    with pytest.raises(rs.RequestError, match="no component 'nope'.*vol"):
        rs.search(template(), f, population, MODEL, progress=False)


def test_clopper_pearson_matches_scipy():
    from rebatesim import _core

    for k, n in [(0, 50), (3, 50), (49, 50), (463, 10_000), (120, 1_000)]:
        assert _core.clopper_pearson_upper(k, n, 0.95) == pytest.approx(beta.ppf(0.95, k + 1, n - k), rel=1e-9)
    assert _core.clopper_pearson_upper(463, 10_000, 0.95) <= 0.05 < _core.clopper_pearson_upper(464, 10_000, 0.95)


def test_search_cli(tmp_path, population):
    programme = tmp_path / "template.toml"
    template().save(programme)
    partners = tmp_path / "partners.csv"
    rows = ["partner_id,segment,baseline_revenue,margin_rate"] + [
        f"P{i},s,{60_000 + 1_000 * i},0.25" for i in range(40)]
    partners.write_text("\n".join(rows) + "\n")
    model = tmp_path / "model.toml"
    model.write_text(rs.Model.from_dict(MODEL).to_toml())
    space = tmp_path / "space.toml"
    space.write_text('[[parameter]]\nfield = "components.vol.tiers[0].percent"\nvalues = [1, 2, 3]\n')
    out = tmp_path / "out"
    p = run_cli(["search", "--programme", str(programme), "--space", str(space), "--partners", str(partners),
                 "--model", str(model), "--scenarios", "30", "--budget-risk", "0.5", "--out", str(out)], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "best of 3 designs" in p.stdout
    assert {x.name for x in out.iterdir()} == {"best.toml", "designs.csv", "top.csv", "pareto.svg", "summary.json"}
    assert rs.Programme.from_file(out / "best.toml").components[0]["tiers"][0]["percent"] in (1, 2, 3)
    p = run_cli(["search", "--programme", str(programme), "--space", str(space), "--partners", str(partners),
                 "--scenarios", "20", "--json"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["evaluations"] == 3


def _minus(text):
    return text.replace("-", "\u2212")


def _message_reads_like_money(r):
    """The summary shows money as the package does: the currency, thousands separators, no
    exponent; the figures are the chosen design's re-evaluation, rounded to whole units."""
    msg = r.message
    chosen = r.top[r.top["chosen"]].iloc[0]
    assert "e+" not in msg and "e-0" not in msg
    assert f"net margin EUR {_minus(f'{chosen.objective:,.0f}')} ± {chosen.objective_se:,.0f} on " in msg
    diff = _minus(f"{chosen.vs_current:+,.0f}")
    assert f"{r.reevaluate_scenarios:,} independent scenarios, EUR {diff} ± {chosen.vs_current_se:,.0f} against" in msg
    assert f"gap EUR {_minus(f'{r.gap[0]:,.0f}')} ± {r.gap[1]:,.0f}" in msg
    # the searched fields with separators and a percent sign
    t = f"{chosen['components.vol.tiers[0].from']:,.0f}"
    assert f"components.vol.tiers[0].from = {t}, " in msg and "components.vol.tiers[0].percent = " in msg
    assert f"percent = {chosen['components.vol.tiers[0].percent']:g}%" in msg


def test_the_chosen_design_has_its_tornado(population):
    space = {"parameter": [SPACE["parameter"][1]]}
    r = rs.search(template(), space, population, MODEL, constraints=[CONSTRAINT], scenarios=30, seed=4,
                  progress=False)
    assumptions = [("Uplift", "behaviour.uplift.elasticity", "off", "x2"), ("Noise", "noise.sigma", "-50%", "x2")]
    s = r.sensitivity(assumptions=assumptions)
    direct = rs.sensitivity(r.best, population, MODEL, scenarios=30, seed=4, assumptions=assumptions, progress=False)
    assert s._data == direct._data and s.programme == r.best.name
    # the chosen design's swing: uplift raises the payout (more purchases cross the threshold)
    assert s.table.loc["Uplift", "payout_swing"] > 0
    chart = r.tornado("incremental_margin", assumptions=assumptions)
    assert chart.kind == "tornado" and "Uplift" in chart.to_svg()
