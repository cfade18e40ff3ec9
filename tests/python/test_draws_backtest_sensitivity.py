"""Input uncertainty in ``rs.backtest`` and ``rs.sensitivity`` (issue 17): the forecasts of a
backtest and every run of a sensitivity under parameter draws, locally, on an executor and
from the command line."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs

BT = tuple(rs.example_path(f, "backtest") for f in ("programme.toml", "partners.csv", "model.toml"))
BT_KW = {"years": 3, "scenarios": 12, "seed": 2, "month_ends": [4, 8], "progress": False}


def _bt_draws():
    """Three draws around the backtest example's model: noise σ × 0.6, × 1, × 1.5."""
    m = rs.Model.from_file(BT[2]).to_dict()
    out = []
    for f in (0.6, 1.0, 1.5):
        d = {k: (dict(v) if isinstance(v, dict) else v) for k, v in m.items()}
        d["noise"] = {**d["noise"], "sigma": d["noise"]["sigma"] * f}
        out.append(rs.Model.from_dict(d))
    return out


def _bounds(bt, level):
    lo, hi = bt.intervals("forecast", level)
    return lo.to_numpy(), hi.to_numpy()


def test_backtest_under_draws_keeps_the_truth_widens_and_runs_alike_on_an_executor():
    draws = _bt_draws()
    plain = rs.backtest(*BT, **BT_KW)
    drawn = rs.backtest(*BT, parameter_uncertainty=draws, **BT_KW)
    assert (plain.parameter_draws, drawn.parameter_draws) == (0, 3)
    np.testing.assert_array_equal(plain.realised, drawn.realised)  # the truth ignores the draws
    np.testing.assert_array_equal(plain.estimates("run_rate"), drawn.estimates("run_rate"))
    lo, hi = _bounds(drawn, 0.9)
    lo0, hi0 = _bounds(plain, 0.9)
    assert (hi - lo).mean() >= (hi0 - lo0).mean()
    off = rs.backtest(*BT, parameter_uncertainty=False, **BT_KW)
    np.testing.assert_array_equal(off.estimates("forecast"), plain.estimates("forecast"))
    with ThreadPoolExecutor(2) as ex:
        remote = rs.backtest(*BT, parameter_uncertainty=draws, executor=ex, **BT_KW)
    assert remote.parameter_draws == 3
    np.testing.assert_array_equal(remote.estimates("forecast"), drawn.estimates("forecast"))
    np.testing.assert_array_equal(_bounds(remote, 0.9)[0], lo)
    one = rs.backtest(*BT, parameter_uncertainty=draws, threads=1, **BT_KW)
    np.testing.assert_array_equal(_bounds(one, 0.8)[1], _bounds(drawn, 0.8)[1])


def test_backtest_refuses_a_draw_of_another_shape():
    other = rs.Model.from_dict({"economics": {"category_mix": {"a": 0.5, "b": 0.5}}})
    with pytest.raises(rs.ModelError, match="parameter draw 1"):
        rs.backtest(*BT, parameter_uncertainty=[_bt_draws()[0], other], **BT_KW)
    with pytest.raises(rs.RequestError, match="has no parameter draws"):
        rs.backtest(*BT, parameter_uncertainty=True, **BT_KW)


def test_rebatesim_backtest_takes_parameter_draws_from_the_command_line(tmp_path, capsys):
    import json

    from rebatesim.cli import main

    (tmp_path / "draws").mkdir()
    for k, d in enumerate(_bt_draws()):
        (tmp_path / "draws" / f"draw_{k:04d}.toml").write_text(d.to_toml(), encoding="utf-8")
    (tmp_path / "model.toml").write_text(rs.Model.from_file(BT[2]).to_toml(), encoding="utf-8")
    base = ["backtest", "--programme", BT[0], "--partners", BT[1], "--model", str(tmp_path / "model.toml"),
            "--years", "2", "--scenarios", "8", "--month-ends", "6"]
    assert main(base + ["--out", str(tmp_path / "with")]) == 0  # the draws/ beside the model
    assert "one of 3 parameter draws" in capsys.readouterr().out
    assert json.loads((tmp_path / "with" / "summary.json").read_text())["parameter_draws"] == 3
    assert main(base + ["--parameter-draws", "off", "--out", str(tmp_path / "off")]) == 0
    assert "parameter draws" not in capsys.readouterr().out
    assert "parameter_draws" not in json.loads((tmp_path / "off" / "summary.json").read_text())
    assert main(base + ["--parameter-draws", str(tmp_path / "draws")]) == 0
    assert "one of 3 parameter draws" in capsys.readouterr().out
    assert main(base + ["--parameter-draws", str(tmp_path / "nowhere")]) == 1
    assert "--parameter-draws: " in capsys.readouterr().err


PROGRAMME = rs.Programme.new("A", "EUR", "2027-01-01", "year", 1,
                             [rs.volume("vol", [(80_000, "1%"), (120_000, "3%")])], segments=["s"])
POPULATION = rs.Population.synthetic({"s": {"count": 60, "median_baseline": 100_000, "dispersion": 0.3}})
MODEL = {"noise": {"sigma": 0.2}, "growth": {"rate": 0.0}, "market": {"sigma": 0.05}}
DRAWS = [{"noise": {"sigma": s}, "growth": {"rate": g}, "market": {"sigma": 0.05}}
         for s, g in ((0.15, -0.03), (0.2, 0.0), (0.3, 0.03))]
NOISE = [("Noise", "noise.sigma", "-50%", "x2"), ("Trend", "growth.rate", "-5pp", "+5pp")]


def _sens(**kw):
    return rs.sensitivity(PROGRAMME, POPULATION, MODEL, scenarios=150, seed=9, progress=False,
                          assumptions=NOISE, **kw)


def test_sensitivity_under_draws_moves_each_draw_and_shares_draws_across_runs():
    s = _sens(parameter_uncertainty=DRAWS)
    plain = _sens()
    assert (s.parameter_draws, plain.parameter_draws) == (3, 0)
    # the base run is the simulation under the draws, the low noise run that of each draw's σ halved
    kw = {"scenarios": 150, "seed": 9, "progress": False}
    base = rs.simulate(PROGRAMME, POPULATION, MODEL, parameter_uncertainty=DRAWS, **kw)
    assert s.base["payout"] == pytest.approx(base.payout.mean(), rel=1e-12)
    halved = [{**d, "noise": {"sigma": d["noise"]["sigma"] / 2}} for d in DRAWS]
    low = rs.simulate(PROGRAMME, POPULATION, {**MODEL, "noise": {"sigma": 0.1}}, parameter_uncertainty=halved, **kw)
    assert s.table.loc["Noise", "payout_low"] == pytest.approx(low.payout.mean(), rel=1e-12)
    raised = [{**d, "growth": {"rate": d["growth"]["rate"] + 0.05}} for d in DRAWS]
    high = rs.simulate(PROGRAMME, POPULATION, MODEL, parameter_uncertainty=raised, **kw)
    assert s.table.loc["Trend", "payout_high"] == pytest.approx(high.payout.mean(), rel=1e-12)
    assert s.base["payout"] != plain.base["payout"]
    assert "(under 3 parameter draws)" in s.tornado().to_svg()
    assert "parameter draws" not in plain.tornado().to_svg()
    with ThreadPoolExecutor(2) as ex:
        remote = _sens(parameter_uncertainty=DRAWS, executor=ex)
    assert remote.parameter_draws == 3
    pd.testing.assert_frame_equal(remote.table, s.table)
    one = _sens(parameter_uncertainty=DRAWS, threads=1)
    pd.testing.assert_frame_equal(one.table, s.table)


def test_sensitivity_under_draws_refuses_two_models_and_draws_of_another_shape():
    two = [("Other", rs.Model.from_dict(MODEL), rs.Model.from_dict(MODEL))]
    with pytest.raises(rs.RequestError, match="two complete models cannot be combined with parameter draws"):
        rs.sensitivity(PROGRAMME, POPULATION, MODEL, scenarios=20, progress=False, assumptions=two,
                       parameter_uncertainty=DRAWS)
    with ThreadPoolExecutor(1) as ex, pytest.raises(rs.RequestError, match="two complete models"):
        rs.sensitivity(PROGRAMME, POPULATION, MODEL, scenarios=20, progress=False, assumptions=two,
                       parameter_uncertainty=DRAWS, executor=ex)
    with pytest.raises(rs.ModelError, match="parameter draw 1"):
        _sens(parameter_uncertainty=[DRAWS[0], {"economics": {"category_mix": {"a": 0.5, "b": 0.5}}}])
