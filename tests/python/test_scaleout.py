"""Scale-out (docs/scale-out.md): simulate, compare and search on a 2-worker
ProcessPoolExecutor and a 2-worker Dask LocalCluster give results bit-identical to a local
run; what cannot be split is refused with a clear error."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import rebatesim as rs
from rebatesim import _executor

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
