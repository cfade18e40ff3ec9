"""Scale-out (docs/scale-out.md): simulate, compare, search, sensitivity, backtest and
forecast on a 2-worker ProcessPoolExecutor (and, for simulate, compare, search and forecast,
a 2-worker Dask LocalCluster) give results bit-identical to a local run; what cannot be split
is refused with a clear error.

Kept small (200 partners, tens of scenarios, one pool and one cluster for the module): the
cost is the workers' start-up, which the module-scoped fixture pays once."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs
from rebatesim import _arrow, _executor
from conftest import FIXTURES

MODEL = {"noise": {"sigma": 0.25}, "market": {"sigma": 0.1}, "partner_factor": {"sigma": 0.1},
         "behaviour": {"uplift": {"elasticity": 1.0}}}


def programme(rate=2, budget=150_000):
    return rs.Programme.new("Scale", "EUR", "2027-01-01", "quarter", 4,
                            [rs.volume("vol", [(20_000, "1%"), (40_000, f"{rate}%")])],
                            segments=["small", "large"], budget=budget)


@pytest.fixture(scope="module")
def population():
    return rs.Population.synthetic(
        {"small": {"count": 150, "median_baseline": 100_000, "dispersion": 0.5, "margin_rate": 0.3},
         "large": {"count": 50, "median_baseline": 400_000, "dispersion": 0.3, "margin_rate": 0.2}}, seed=3)


@pytest.fixture(scope="module")
def executors():
    """A 2-process pool (spawned: no fork of a process running threads) and a 2-worker Dask
    LocalCluster."""
    from distributed import Client, LocalCluster

    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn"))
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    try:
        yield {"process pool": pool, "dask": client.get_executor()}
    finally:
        client.close()
        cluster.close()
        pool.shutdown()


def same(a, b):
    """Equal bit for bit (NaN included)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))
    return np.array_equal(a, b)


def same_result(x, y):
    assert x.meta == y.meta
    for k in x._per:
        assert same(x._per[k], y._per[k]), k
    for k in x._mat:
        assert same(x._mat[k], y._mat[k]), k
    assert x.summary.equals(y.summary)


def test_simulate_and_compare_are_bit_identical_on_executors(population, executors):
    local = rs.simulate(programme(), population, MODEL, scenarios=130, seed=4, progress=False)
    designs = {"A": programme(), "B": programme(rate=3)}
    local_c = rs.compare(designs, population, MODEL, scenarios=60, seed=2, progress=False)
    for name, ex in executors.items():
        same_result(local, rs.simulate(programme(), population, MODEL, scenarios=130, seed=4, progress=False,
                                       executor=ex))
        c = rs.compare(designs, population, MODEL, scenarios=60, seed=2, progress=False, executor=ex)
        for d in designs:
            same_result(local_c[d], c[d])
        assert c.differences.equals(local_c.differences), name


def test_search_is_bit_identical_on_executors(population, executors):
    space = {"parameter": [{"field": "components.vol.tiers[1].percent", "values": [2, 3, 4]},
                           {"field": "budget", "from": 100_000, "to": 200_000, "step": 50_000}]}
    kw = dict(constraints=[{"kind": "chance", "threshold": "budget", "alpha": 0.3}], scenarios=40, seed=1,
              top=3, progress=False)
    local = rs.search(programme(), space, population, MODEL, **kw)
    for ex in executors.values():
        r = rs.search(programme(), space, population, MODEL, executor=ex, **kw)
        assert r.designs.equals(local.designs) and r.top.equals(local.top)
        assert r.best == local.best and r.gap == local.gap
    # the chosen design's sensitivity runs on the search's executor, bit-identical to a local one
    noise = [("Noise", "noise.sigma", "-50%", "x2")]
    assert r.sensitivity(assumptions=noise)._data == rs.sensitivity(
        local.best, population, MODEL, scenarios=40, seed=1, assumptions=noise, progress=False)._data


def test_what_cannot_be_split_is_refused(population):
    with pytest.raises(rs.RequestError, match="executor: expected an object with submit"):
        rs.simulate(programme(), population, MODEL, scenarios=10, progress=False, executor=object())
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
        with pytest.raises(rs.RequestError, match="precision target cannot be split"):
            rs.simulate(programme(), population, MODEL, precision=1000, progress=False, executor=ex)


def test_shard_ranges_and_bytes(population):
    assert _executor.ranges(7, 3) == [(0, 3), (3, 5), (5, 7)]
    assert _executor.ranges(2, 5) == [(0, 1), (1, 2)]
    from rebatesim import _core

    data = _core.population_to_bytes(population._core)
    assert _core.population_from_bytes(data).partner_ids() == population.partner_ids
    with pytest.raises(rs.RequestError, match="population bytes"):
        _core.population_from_bytes(data[:-3])
    with pytest.raises(rs.RequestError, match="shard bytes"):
        _core.shard_columns(b"RSSHARD\x01")


def test_sensitivity_is_bit_identical_on_a_process_pool(population, executors):
    assumptions = [("Noise", "noise.sigma", "-50%", "x2"), ("Uplift", "behaviour.uplift.elasticity", "off", "x2")]
    kw = dict(scenarios=45, seed=5, progress=False)
    local = rs.sensitivity(programme(), population, MODEL, **kw)
    seen = []
    pooled = rs.sensitivity(programme(), population, MODEL, executor=executors["process pool"],
                            **{**kw, "progress": lambda d, t: seen.append((d, t))})
    assert pooled._data == local._data and pooled.table.equals(local.table)
    assert [r["assumption"] for r in local._data["rows"]] == list(local.table.index)
    # every run (the base, a low and a high per default assumption) of 45 scenarios
    runs = 1 + 2 * len(local.table)
    assert len(local.table) == 5 and seen[-1] == (runs * 45, runs * 45)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    explicit = rs.sensitivity(programme(), population, MODEL, assumptions=assumptions, **kw)
    assert rs.sensitivity(programme(), population, MODEL, assumptions=assumptions,
                          executor=executors["process pool"], **kw)._data == explicit._data


def _same_backtest(a, b):
    assert _arrow.row(a._core.meta()) == _arrow.row(b._core.meta()) and a._core.table() == b._core.table()
    assert same(a.realised, b.realised)
    for m in a.methods:
        assert same(a.estimates(m).values, b.estimates(m).values), m
        ia, ib = a.intervals(m, 0.9), b.intervals(m, 0.9)
        assert (ia is None) == (ib is None) and (
            ia is None or (same(ia[0].values, ib[0].values) and same(ia[1].values, ib[1].values))), m
    pd.testing.assert_frame_equal(a.coverage, b.coverage)
    pd.testing.assert_frame_equal(a.errors, b.errors)


def test_backtest_is_bit_identical_on_a_process_pool(executors):
    ex = [rs.example_path(f, "backtest") for f in ("programme.toml", "partners.csv", "model.toml")]
    kw = dict(years=5, scenarios=12, month_ends=[3, 9], seed=3, progress=False)
    local = rs.backtest(*ex, **kw)
    seen = []
    pooled = rs.backtest(*ex, executor=executors["process pool"], **{**kw, "progress": lambda d, t: seen.append((d, t))})
    _same_backtest(local, pooled)
    assert local.years == 5 and seen[-1] == (5, 5)
    # year ranges put together by hand: any cut gives the same backtest
    from rebatesim import _core

    prog, pop, mod = (rs.Programme.from_file(ex[0]), rs.Population.from_csv(ex[1]), rs.Model.from_file(ex[2]))
    opts = dict(years=5, scenarios=12, seed=3, forecast_seed=None, forecaster="forecast", month_ends=[3, 9])
    parts = [_core.backtest_years(prog._spec, pop._core, mod._core, start=a, end=b, **opts)
             for a, b in [(0, 1), (1, 4), (4, 5)]]
    assert _core.backtest_concat(parts).table() == local._core.table()
    with pytest.raises(rs.RequestError, match="not a non-empty range"):
        _core.backtest_years(prog._spec, pop._core, mod._core, start=3, end=9, **opts)
    with pytest.raises(rs.RequestError, match="backtest bytes"):
        _core.backtest_concat([parts[0][:-5]])


def small_forecast_inputs():
    actuals = pd.read_csv(FIXTURES / "small" / "transactions.csv")
    actuals = actuals[actuals["date"] <= "2027-05-20"]
    return (str(FIXTURES / "small" / "programme.toml"), str(FIXTURES / "small" / "partners.csv"),
            {"noise": {"sigma": 0.2}, "partner_factor": {"sigma": 0.2}, "market": {"sigma": 0.1},
             "economics": {"unit_price": 300, "category_mix": {"cable": 0.6, "tools": 0.4}}}, actuals)


def _same_forecast(a, b):
    assert same(a.payout, b.payout) and same(a.payout_before_budget, b.payout_before_budget)
    assert _arrow.records(a._core.report()) == _arrow.records(b._core.report())
    assert a.to_json() == b.to_json()
    for level in ("component", "partner"):
        pd.testing.assert_frame_equal(a.reconciliation(level), b.reconciliation(level))


def test_forecast_is_bit_identical_on_executors(executors):
    programme_path, partners, model, actuals = small_forecast_inputs()
    prior = pd.DataFrame({"partner_id": ["P1"], "component": ["volume"], "amount": ["123.45"]})
    kw = dict(as_of="2027-05-20", scenarios=70, seed=9, prior_accruals=prior, progress=False)
    local = rs.forecast(programme_path, partners, model, actuals, **kw)
    for name, ex in executors.items():
        seen = []
        sharded = rs.forecast(programme_path, partners, model, actuals, executor=ex,
                              **{**kw, "progress": lambda d, t, into=seen: into.append((d, t))})
        _same_forecast(local, sharded)
        assert seen[-1] == (70, 70), name


def test_forecast_shards_and_bytes():
    from rebatesim import _core
    from rebatesim._inputs import load_transactions

    programme_path, partners, model, actuals = small_forecast_inputs()
    prog, pop, mod = rs.Programme.from_file(programme_path), rs.Population.from_csv(partners), rs.Model.from_dict(model)
    tx = load_transactions(actuals, prog)
    data = _core.transactions_to_bytes(tx)
    assert _core.transactions_to_bytes(_core.transactions_from_bytes(data)) == data
    with pytest.raises(rs.RequestError, match="transaction bytes"):
        _core.transactions_from_bytes(data[:-1])
    args = (prog._spec, pop._core, mod._core, tx, "2027-05-20", None, 20, 4, None, 0.9)
    shards = [_core.forecast_shard(*args, a, b) for a, b in [(0, 7), (7, 8), (8, 20)]]
    local = _core.forecast(prog._spec, pop._core, mod._core, tx, "2027-05-20", scenarios=20, seed=4)
    assert _arrow.records(_core.forecast_merge(*args, shards).report()) == _arrow.records(local.report())
    with pytest.raises(rs.RequestError, match="expected scenario 7"):
        _core.forecast_merge(*args, [shards[0], shards[2]])
    with pytest.raises(rs.RequestError, match="cover 8 scenarios"):
        _core.forecast_merge(*args, shards[:2])
    with pytest.raises(rs.RequestError, match="not a non-empty range"):
        _core.forecast_shard(*args, 5, 30)


def test_bad_executors_are_refused_by_every_run(population):
    msg = "executor: expected an object with submit"
    with pytest.raises(rs.RequestError, match=msg):
        rs.sensitivity(programme(), population, MODEL, scenarios=10, progress=False, executor=object())
    ex = [rs.example_path(f, "backtest") for f in ("programme.toml", "partners.csv", "model.toml")]
    with pytest.raises(rs.RequestError, match=msg):
        rs.backtest(*ex, years=2, scenarios=5, progress=False, executor="pool")
    programme_path, partners, model, actuals = small_forecast_inputs()
    with pytest.raises(rs.RequestError, match=msg):
        rs.forecast(programme_path, partners, model, actuals, as_of="2027-05-20", progress=False, executor=3)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        with pytest.raises(rs.RequestError, match="precision target cannot be split"):
            rs.sensitivity(programme(), population, MODEL, precision=1000, progress=False, executor=pool)


def test_an_error_from_the_progress_callback_stops_a_sharded_run(population, executors):
    def boom(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        rs.sensitivity(programme(), population, MODEL, scenarios=20, seed=1, progress=boom,
                       assumptions=[("Noise", "noise.sigma", "-50%", "x2")], executor=executors["process pool"])
    programme_path, partners, model, actuals = small_forecast_inputs()
    with pytest.raises(RuntimeError, match="stop here"):
        rs.forecast(programme_path, partners, model, actuals, as_of="2027-05-20", scenarios=20, progress=boom,
                    executor=executors["process pool"])
    # the pool is still usable afterwards
    assert rs.sensitivity(programme(), population, MODEL, scenarios=20, seed=1, progress=False,
                          assumptions=[("Noise", "noise.sigma", "-50%", "x2")],
                          executor=executors["process pool"]).scenarios == 20


def test_the_command_line_runs_on_workers_with_the_same_output(tmp_path, capsys):
    """``--workers 2`` on simulate, compare, forecast and backtest prints what the local run
    prints, byte for byte; ``--tolerance`` (one process by nature) is refused with them."""
    from rebatesim import cli

    programme_path, partners, model, actuals = small_forecast_inputs()
    (tmp_path / "model.toml").write_text(rs.Model.from_dict(model).to_toml(), encoding="utf-8")
    actuals.to_csv(tmp_path / "actuals.csv", index=False)
    steeper = rs.Programme.from_file(programme_path).to_toml().replace('"Small', '"Steeper small', 1)
    (tmp_path / "steeper.toml").write_text(steeper, encoding="utf-8")
    common = ["--partners", partners, "--model", str(tmp_path / "model.toml"), "--seed", "5", "--json"]
    bt = [rs.example_path(f, "backtest") for f in ("programme.toml", "partners.csv", "model.toml")]
    commands = [
        ["simulate", "--programme", programme_path, "--scenarios", "30", *common],
        ["compare", "--programme", programme_path, "--programme", str(tmp_path / "steeper.toml"),
         "--scenarios", "20", *common],
        ["forecast", "--programme", programme_path, "--actuals", str(tmp_path / "actuals.csv"),
         "--as-of", "2027-05-20", "--scenarios", "30", *common],
        ["backtest", "--programme", bt[0], "--partners", bt[1], "--model", bt[2], "--years", "3",
         "--scenarios", "10", "--json"],
    ]
    for argv in commands:
        assert cli.main(argv) == 0, argv
        local = capsys.readouterr().out
        assert cli.main([*argv, "--workers", "2"]) == 0, argv
        assert capsys.readouterr().out == local, argv[0]
        assert local.startswith("{")
    with pytest.raises(SystemExit):
        cli.main([*commands[0], "--tolerance", "100", "--workers", "2"])
    assert "--tolerance runs in one process" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([*commands[0], "--workers", "2", "--dask", "tcp://localhost:8786"])
    assert "not allowed with argument" in capsys.readouterr().err
