"""Input uncertainty: simulations under a calibrated model's parameter draws (docs/simulation.md,
"Input uncertainty")."""

import math

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs

PROGRAMME = rs.Programme.new("A", "EUR", "2027-01-01", "year", 1,
                             [rs.volume("vol", [(80_000, "1%"), (120_000, "3%")])], segments=["s"])
POPULATION = rs.Population.synthetic({"s": {"count": 150, "median_baseline": 100_000, "dispersion": 0.3}})
MODEL = {"noise": {"sigma": 0.2}, "growth": {"rate": 0.0}}


def _draws(*rates):
    return [{"noise": {"sigma": 0.2}, "growth": {"rate": g}} for g in rates]


def _run(model, **kw):
    return rs.simulate(PROGRAMME, POPULATION, model, scenarios=120, seed=4, progress=False, **kw)


def test_identical_draws_give_the_models_results_bit_for_bit():
    plain = _run(MODEL)
    drawn = _run(MODEL, parameter_uncertainty=_draws(0.0, 0.0, 0.0))
    assert plain.parameter_variance() is None
    np.testing.assert_array_equal(plain.payout, drawn.payout)
    table = drawn.parameter_variance()
    assert table.loc["payout", "draws"] == 3 and table.loc["payout", "n"] == 120
    # the draws are the same model: what they add is noise around zero
    assert table.loc["payout", "parameter_share"] < 0.1


def test_draws_far_apart_dominate_the_variance_and_widen_the_distribution():
    narrow = _run(MODEL)
    wide = _run(MODEL, parameter_uncertainty=_draws(-0.2, 0.0, 0.2, 0.4))
    table = wide.parameter_variance()
    assert list(table.columns) == ["n", "draws", "total_variance", "within_variance", "parameter_share",
                                   "parameter_share_se"]
    share, se = table.loc["payout", ["parameter_share", "parameter_share_se"]]
    assert share > 0.9 and 0 < se < 0.1
    # the law of total variance: the within-draw variance is the smaller part
    assert table.loc["payout", "within_variance"] < 0.1 * table.loc["payout", "total_variance"]
    assert wide.summary.loc["payout", "sd"] > 3 * narrow.summary.loc["payout", "sd"]
    # compare: each design's scenario s under the same draw, so the paired difference is tight
    richer = rs.Programme.new("B", "EUR", "2027-01-01", "year", 1,
                              [rs.volume("vol", [(80_000, "2%"), (120_000, "3%")])], segments=["s"])
    c = rs.compare({"A": PROGRAMME, "B": richer}, POPULATION, MODEL, scenarios=120, seed=4, progress=False,
                   parameter_uncertainty=_draws(-0.2, 0.0, 0.2, 0.4))
    np.testing.assert_array_equal(c["A"].payout, wide.payout)
    assert c["B"].parameter_variance().loc["payout", "draws"] == 4


def test_parameter_uncertainty_errors_name_what_is_missing():
    with pytest.raises(rs.RequestError, match="has no parameter draws"):
        _run(MODEL, parameter_uncertainty=True)
    with pytest.raises(rs.RequestError, match="empty list"):
        _run(MODEL, parameter_uncertainty=[])
    with pytest.raises(rs.RequestError, match=r"parameter_uncertainty\[1\]: expected a Model"):
        _run(MODEL, parameter_uncertainty=[MODEL, 3])
    with pytest.raises(rs.ModelError, match="parameter draw 0"):
        _run(MODEL, parameter_uncertainty=[{"economics": {"category_mix": {"a": 0.5, "b": 0.5}}}])


def _history(months: int = 26, partners: int = 8) -> pd.DataFrame:
    rows = []
    for t in range(months):
        y, m = 2024 + t // 12, t % 12 + 1
        for j in range(partners):
            if (t * 5 + j * 3) % 7 == 0:
                continue
            amount = 9000 * (j + 1) * math.exp(0.2 * math.cos(t * math.pi / 6) + 0.05 * ((t * 7 + j * 11) % 5 - 2))
            rows.append((f"P{j}", f"{y}-{m:02d}-10", round(amount / 25, 6), round(amount, 2), f"O{t}-{j}"))
    return pd.DataFrame(rows, columns=["partner_id", "date", "quantity", "revenue", "order_id"])


def test_a_calibration_runs_under_its_draws_by_default_as_object_and_as_folder(tmp_path):
    partners = pd.DataFrame({"partner_id": [f"P{j}" for j in range(8)], "segment": ["s"] * 8})
    with pytest.warns(UserWarning):
        cal = rs.calibrate(_history(), partners, draws=6, bootstrap=30)
    pop = pd.DataFrame({"partner_id": [f"P{j}" for j in range(8)], "segment": ["s"] * 8,
                        "baseline_revenue": [120_000.0 * (j + 1) for j in range(8)]})
    kw = {"scenarios": 60, "seed": 2, "progress": False}
    by_object = rs.simulate(PROGRAMME, pop, cal, **kw)
    assert by_object.parameter_variance().loc["payout", "draws"] <= 6
    off = rs.simulate(PROGRAMME, pop, cal, parameter_uncertainty=False, **kw)
    assert off.parameter_variance() is None
    np.testing.assert_array_equal(off.payout, rs.simulate(PROGRAMME, pop, cal.model, **kw).payout)
    # the folder `rebatesim calibrate --out` writes: model.toml with draws/ beside it
    cal.save(tmp_path / "cal")
    by_folder = rs.simulate(PROGRAMME, pop, tmp_path / "cal" / "model.toml", **kw)
    np.testing.assert_array_equal(by_object.payout, by_folder.payout)
    by_list = rs.simulate(PROGRAMME, pop, cal.model, parameter_uncertainty=tmp_path / "cal" / "draws", **kw)
    np.testing.assert_array_equal(by_object.payout, by_list.payout)


def test_the_command_line_uses_the_draws_beside_the_model_unless_told_off(tmp_path, capsys):
    from rebatesim.cli import main

    partners = pd.DataFrame({"partner_id": [f"P{j}" for j in range(8)], "segment": ["s"] * 8})
    with pytest.warns(UserWarning):
        cal = rs.calibrate(_history(), partners, draws=4, bootstrap=30)
    cal.save(tmp_path / "cal")
    PROGRAMME.save(tmp_path / "programme.toml")
    partners.assign(baseline_revenue=[120_000.0 * (j + 1) for j in range(8)]).to_csv(tmp_path / "p.csv", index=False)
    base = ["simulate", "--programme", str(tmp_path / "programme.toml"), "--partners", str(tmp_path / "p.csv"),
            "--model", str(tmp_path / "cal" / "model.toml"), "--scenarios", "40"]
    assert main(base) == 0
    assert "Input uncertainty: 4 parameter draws; " in capsys.readouterr().out
    assert main(base + ["--parameter-draws", "off"]) == 0
    assert "Input uncertainty" not in capsys.readouterr().out
    assert main(base + ["--parameter-draws", str(tmp_path / "cal" / "draws")]) == 0
    assert "Input uncertainty: 4 parameter draws; " in capsys.readouterr().out
    assert main(base + ["--parameter-draws", str(tmp_path / "nowhere")]) == 1
    assert "--parameter-draws: " in capsys.readouterr().err


def test_draws_travel_to_executor_workers_bit_for_bit():
    import pickle
    from concurrent.futures import ThreadPoolExecutor

    from rebatesim import _executor

    draws = _draws(-0.2, 0.1, 0.3)
    local = _run(MODEL, parameter_uncertainty=draws)
    with ThreadPoolExecutor(2) as ex:
        remote = _run(MODEL, parameter_uncertainty=draws, executor=ex)
    np.testing.assert_array_equal(local.payout, remote.payout)
    pd.testing.assert_frame_equal(local.parameter_variance(), remote.parameter_variance())
    # what a process or Dask worker receives: the draws as model texts, parsed once there
    pop = rs.Population.synthetic({"s": {"count": 3, "median_baseline": 1_000}})
    inputs = _executor.Inputs(pop, rs.Model.from_dict(MODEL), [rs.Model.from_dict(d) for d in draws])
    back = pickle.loads(pickle.dumps(inputs))
    assert [d.to_text("toml") for d in back.draws_core()] == [rs.Model.from_dict(d)._core.to_text("toml")
                                                             for d in draws]


def test_a_forecast_runs_under_the_draws_locally_and_on_an_executor():
    from concurrent.futures import ThreadPoolExecutor

    m = rs.Model.from_file(rs.example_path("model.toml"))
    wider = m.to_dict()  # every σ of the noise doubled
    wider["noise"] = {"sigma": 0.5, "segments": {"installer": 0.6, "retail": 0.4}}
    tx = pd.read_csv(rs.example_path("transactions.csv"))
    tx = tx[tx["date"] <= "2027-06-30"]
    args = (rs.example_path("programme.toml"), rs.example_path("partners.csv"), m, tx)
    kw = {"as_of": "2027-06-30", "scenarios": 8, "seed": 3, "progress": False}
    plain = rs.forecast(*args, **kw)
    same = rs.forecast(*args, parameter_uncertainty=[m, m], **kw)
    assert (plain.parameter_draws, same.parameter_draws) == (0, 2)
    np.testing.assert_array_equal(plain.payout, same.payout)
    drawn = rs.forecast(*args, parameter_uncertainty=[m, wider], **kw)
    # the budget binds in most scenarios: compare the payout before it
    assert not np.array_equal(plain.payout_before_budget, drawn.payout_before_budget)
    with ThreadPoolExecutor(2) as ex:
        remote = rs.forecast(*args, parameter_uncertainty=[m, wider], executor=ex, **kw)
    np.testing.assert_array_equal(drawn.payout_before_budget, remote.payout_before_budget)
    assert remote.parameter_draws == 2


def test_rebatesim_forecast_takes_parameter_draws_from_the_command_line(tmp_path, capsys):
    from rebatesim.cli import main

    m = rs.Model.from_file(rs.example_path("model.toml"))
    (tmp_path / "draws").mkdir()
    for k in range(3):
        (tmp_path / "draws" / f"draw_{k:04d}.toml").write_text(m.to_toml(), encoding="utf-8")
    (tmp_path / "model.toml").write_text(m.to_toml(), encoding="utf-8")
    tx = pd.read_csv(rs.example_path("transactions.csv"))
    tx[tx["date"] <= "2027-03-31"].to_csv(tmp_path / "actuals.csv", index=False)
    base = ["forecast", "--programme", rs.example_path("programme.toml"), "--partners",
            rs.example_path("partners.csv"), "--model", str(tmp_path / "model.toml"), "--actuals",
            str(tmp_path / "actuals.csv"), "--as-of", "2027-03-31", "--scenarios", "4"]
    assert main(base) == 0
    assert "one of 3 parameter draws" in capsys.readouterr().out
    assert main(base + ["--parameter-draws", "off"]) == 0
    assert "parameter draws" not in capsys.readouterr().out


def test_the_summary_line_says_when_the_variance_cannot_be_split():
    from rebatesim import _draws

    r = rs.simulate(PROGRAMME, POPULATION, MODEL, scenarios=2, seed=1, progress=False,
                    parameter_uncertainty=_draws_list(5))
    assert r.parameter_variance().attrs["parameter_draws"] == 5
    assert "5 parameter draws (too few scenarios" in _draws.summary_line(r.parameter_variance())


def _draws_list(k):
    return _draws(*[0.01 * j for j in range(k)])
