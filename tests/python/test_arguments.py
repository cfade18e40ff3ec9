"""Arguments of the public functions: a bad value is a rebatesim error naming the argument
(never a bare KeyError, TypeError, OverflowError, RecursionError or UnicodeEncodeError),
checked before any computation (rebatesim._checks)."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rebatesim as rs
from rebatesim import _checks
from conftest import PARTNERS, PROGRAMME, TRANSACTIONS

MODEL = {"noise": {"sigma": 0.2}}


def programme():
    return rs.Programme.from_toml(PROGRAMME)


def population():
    return rs.Population.synthetic({"retail": {"count": 5, "median_baseline": 100_000},
                                    "trade": {"count": 5, "median_baseline": 100_000}}, seed=1)


def frames():
    import io

    return pd.read_csv(io.StringIO(PARTNERS)), pd.read_csv(io.StringIO(TRANSACTIONS))


# ------------------------------------------------------------ properties of the checks
anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5), st.binary(max_size=3), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), st.decimals(allow_nan=True),
)


def outcome(check, *args):
    try:
        return "ok", check(*args)
    except rs.RebatesimError as e:
        return "error", e


@settings(max_examples=400, deadline=None)
@given(anything)
def test_scenarios_accepts_exactly_the_whole_numbers_in_range(v):
    kind, r = outcome(_checks.scenarios, v)
    valid = isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= _checks.MAX_SCENARIOS
    assert (kind == "ok") == valid
    if valid:
        assert r == v and type(r) is int
    else:
        assert isinstance(r, rs.RequestError) and str(r).startswith("scenarios: expected ")


@settings(max_examples=400, deadline=None)
@given(st.one_of(anything, st.integers(min_value=2**64 - 3, max_value=2**64 + 3)))
def test_seed_accepts_exactly_0_to_2_64_minus_1(v):
    kind, r = outcome(_checks.seed, v)
    valid = isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**64
    assert (kind == "ok") == valid
    if not valid:
        assert isinstance(r, rs.RequestError) and "seed: expected a whole number from 0 to 2**64 - 1" in str(r)


@settings(max_examples=400, deadline=None)
@given(st.one_of(anything, st.tuples(anything, anything), st.fixed_dictionaries({"tolerance": anything}),
                 st.fixed_dictionaries({"statistic": anything, "tolerance": anything})))
def test_precision_is_checked_or_a_request_error(v):
    kind, r = outcome(_checks.precision, v)
    if kind == "error":
        assert isinstance(r, rs.RequestError) and str(r).startswith("precision")
    elif v is None:
        assert r == (None, None)
    else:
        stat, tol = r
        assert stat == "mean" or stat.startswith("p")
        assert math.isfinite(tol) and tol > 0


@settings(max_examples=200, deadline=None)
@given(anything)
def test_confidence_is_a_number_strictly_between_0_and_1(v):
    kind, r = outcome(_checks.fraction, "confidence", v)
    if kind == "ok":
        assert 0 < r < 1
    else:
        assert isinstance(r, rs.RequestError) and str(r).startswith("confidence: expected")


# ------------------------------------------------------------ through the public functions
BAD_RUN = [
    (dict(scenarios=-1), "scenarios: expected at least 1, found -1"),
    (dict(scenarios=0), "scenarios: expected at least 1, found 0"),
    (dict(scenarios=2**60), "scenarios: expected at most 1_000_000_000, found 1_152_921_504_606_846_976"),
    (dict(scenarios=1.5), "scenarios: expected a whole number, found 1.5"),
    (dict(scenarios=True), "scenarios: expected a whole number, found True"),
    (dict(scenarios="x"), "scenarios: expected a whole number, found 'x'"),
    (dict(scenarios=None), "scenarios: expected a whole number, found None"),
    (dict(seed=-1), "seed: expected a whole number from 0 to 2**64 - 1, found -1"),
    (dict(seed=2**64), "seed: expected a whole number from 0 to 2**64 - 1, found 18_446_744_073_709_551_616"),
    (dict(seed=1.5), "seed: expected a whole number from 0 to 2**64 - 1, found 1.5"),
    (dict(seed=False), "seed: expected a whole number from 0 to 2**64 - 1, found False"),
    (dict(threads=0), "threads: expected at least 1, found 0"),
    (dict(threads=10**6), "threads: expected at most 1024, found 1_000_000"),
    (dict(threads="2"), "threads: expected a whole number, found '2'"),
]
BAD_PRECISION = [
    (dict(precision={}), "precision: the dict has no 'tolerance'"),
    (dict(precision={"tol": 5}), "precision: unknown key 'tol'"),
    (dict(precision={"tolerance": -1}), "precision tolerance: expected a number above 0, found -1"),
    (dict(precision={"tolerance": "x"}), "precision tolerance: expected a number, found 'x'"),
    (dict(precision=("p95",)), "precision: expected a tolerance"),
    (dict(precision=("p950", 10)), "precision statistic: expected \"mean\" or a percentile"),
    (dict(precision=float("nan")), "precision: expected a finite number, found nan"),
    (dict(precision=True), "precision: expected a tolerance"),
    (dict(precision=10, max_scenarios=2.5), "max_scenarios: expected a whole number, found 2.5"),
    (dict(chunk_size=0), "chunk_size: expected at least 1, found 0"),
    (dict(memory_limit=2**70), "memory_limit: expected at most 2**64 - 1"),
]


@pytest.mark.parametrize("kwargs,message", BAD_RUN + BAD_PRECISION)
def test_simulate_compare_sensitivity_name_the_bad_argument(kwargs, message):
    p, pop = programme(), population()
    calls = [
        lambda: rs.simulate(p, pop, MODEL, progress=False, **kwargs),
        lambda: rs.compare({"a": p, "b": p}, pop, MODEL, progress=False, **kwargs),
        lambda: rs.sensitivity(p, pop, MODEL, progress=False, assumptions=[], **kwargs),
    ]
    for call in calls:
        with pytest.raises(rs.RequestError) as e:
            call()
        assert message in str(e.value)


@pytest.mark.parametrize("kwargs,message", BAD_RUN + [
    (dict(confidence=1), "confidence: expected a number between 0 and 1 (e.g. 0.9), found 1"),
    (dict(confidence="high"), "confidence: expected a number, found 'high'"),
    (dict(as_of="2027-06-\ud800"), "as_of: expected valid Unicode text"),
])
def test_forecast_names_the_bad_argument(kwargs, message):
    partners, tx = frames()
    kwargs = {"as_of": "2027-06-30", **kwargs}
    with pytest.raises(rs.RequestError) as e:
        rs.forecast(programme(), partners, None, tx, progress=False, **kwargs)
    assert message in str(e.value)


@pytest.mark.parametrize("kwargs,message", BAD_RUN + [
    (dict(years=-1), "years: expected at least 1, found -1"),
    (dict(years=1.5), "years: expected a whole number, found 1.5"),
    (dict(years=10**9), "years: expected at most 1_000_000, found 1_000_000_000"),
    (dict(forecast_seed=-3), "forecast_seed: expected a whole number from 0 to 2**64 - 1, found -3"),
    (dict(month_ends="3"), "month_ends: expected a list of months"),
    (dict(month_ends=[]), "month_ends: expected a non-empty list"),
    (dict(month_ends=[3, 0]), "month_ends[1]: expected at least 1, found 0"),
    (dict(month_ends=[3, 4.5]), "month_ends[1]: expected a whole number, found 4.5"),
    (dict(forecaster=7), "forecaster: expected text, found int"),
])
def test_backtest_names_the_bad_argument(kwargs, message):
    partners, _ = frames()
    with pytest.raises(rs.RequestError) as e:
        rs.backtest(programme(), partners, None, progress=False, **kwargs)
    assert message in str(e.value)


def test_numpy_whole_numbers_are_whole_numbers():
    np = pytest.importorskip("numpy")
    assert _checks.scenarios(np.int64(20)) == 20 and _checks.seed(np.uint64(2**64 - 1)) == 2**64 - 1
    with pytest.raises(rs.RequestError, match="scenarios: expected a whole number, found 20.0"):
        _checks.scenarios(np.float64(20))


def test_population_synthetic_arguments():
    with pytest.raises(rs.RequestError, match="seed: expected a whole number from 0 to 2\\*\\*64 - 1, found -1"):
        rs.Population.synthetic({"s": {"count": 3, "median_baseline": 1000}}, seed=-1)
    with pytest.raises(rs.ModelError, match="segments: expected a dict"):
        rs.Population.synthetic({"s": 3})
    with pytest.raises(rs.ModelError, match="basis: expected text"):
        rs.Population.synthetic({"s": {"count": 3, "median_baseline": 1000}}, basis=None)


def test_programme_new_argument_types():
    with pytest.raises(rs.ProgrammeError, match=r"components\[1\]: expected a component"):
        rs.Programme.new("x", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(1, "1%")]), 5])
    with pytest.raises(rs.ProgrammeError, match="components: expected a list of components"):
        rs.Programme.new("x", "EUR", "2027-01-01", "year", 1, 5)
    with pytest.raises(rs.ProgrammeError, match="segments: expected a list of names, found str"):
        rs.Programme.new("x", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(1, "1%")])], segments="ab")


# ------------------------------------------------------------ nesting depth
def nested(depth, leaf="x"):
    d = leaf
    for _ in range(depth):
        d = {"a": d}
    return d


@pytest.mark.parametrize("depth", [65, 5_000, 200_000])
def test_deep_dicts_are_refused_with_the_path_not_a_recursion_error(depth):
    d = programme().to_dict()
    d["description"] = nested(depth - 1)
    with pytest.raises(rs.ProgrammeError) as e:
        rs.Programme.from_dict(d)
    assert e.value.path == "description" + ".a" * 63
    assert "nested more than 64 levels deep" in str(e.value)
    with pytest.raises(rs.ModelError) as e:
        rs.Model.from_dict({"noise": nested(depth - 1)})
    assert e.value.path.startswith("noise.a.a") and "nested more than 64 levels deep" in str(e.value)


def test_deep_lists_name_the_index_path():
    d = programme().to_dict()
    deep = []
    x = deep
    for _ in range(100):
        x.append([])
        x = x[0]
    d["components"][1]["tiers"] = deep
    with pytest.raises(rs.ProgrammeError) as e:
        rs.Programme.from_dict(d)
    assert e.value.path == "components[1].tiers" + "[0]" * 61  # tiers is at level 4


def test_64_levels_pass_the_depth_check():
    _checks.document(nested(64), "programme")  # 64 dicts + the leaf: no error
    with pytest.raises(rs.ProgrammeError, match="nested more than 64"):
        _checks.document(nested(65), "programme")


def test_a_dict_that_contains_itself_is_an_error_not_a_hang():
    d = programme().to_dict()
    d["description"] = d
    with pytest.raises(rs.ProgrammeError, match="contains itself") as e:
        rs.Programme.from_dict(d)
    assert e.value.path == "description.description"  # from_dict walks a copy of the top level


def test_a_list_shared_many_times_is_bounded():
    x = [1, 2]
    for _ in range(40):  # 2**41 values once written out
        x = [x, x]
    with pytest.raises(rs.ProgrammeError, match="holds more than 10_000_000 values"):
        _checks.document({"description": x}, "programme")
    y = [1]
    for _ in range(20):  # shared, but 2**21 values: fine, and walked once per distinct list
        y = [y, y]
    _checks.document({"description": y}, "programme")
    deep = [1]
    for _ in range(70):
        deep = [deep]
    with pytest.raises(rs.ProgrammeError, match="nested more than 64") as e:
        _checks.document({"a": [deep[0][0][0][0][0][0][0][0][0][0]], "b": deep}, "programme")
    assert e.value.path == "b" + "[0]" * 10  # the shared list, met again 9 levels deeper


# ------------------------------------------------------------ lone surrogates
def test_lone_surrogate_in_a_dict_names_the_field():
    d = programme().to_dict()
    d["components"][2]["id"] = "to\ud800ls"
    with pytest.raises(rs.ProgrammeError) as e:
        rs.Programme.from_dict(d)
    assert e.value.path == "components[2].id"
    assert "lone surrogate U+D800 at character 3" in str(e.value)
    with pytest.raises(rs.ModelError) as e:
        rs.Model.from_dict({"description": "\udfff"})
    assert e.value.path == "description"


def test_lone_surrogate_in_a_key_names_the_parent():
    d = programme().to_dict()
    d["payment"]["\udc80when"] = "end"
    with pytest.raises(rs.ProgrammeError) as e:
        rs.Programme.from_dict(d)
    assert e.value.path == "payment" and "not valid Unicode" in str(e.value)


@pytest.mark.parametrize("method", ["from_toml", "from_json", "from_yaml"])
def test_lone_surrogate_in_text_names_line_and_column(method):
    text = {"from_toml": 'name = "x"\ndescription = "ab\ud83d"\n',
            "from_json": '{"name": "x",\n"description": "ab\ud83d"}',
            "from_yaml": 'name: x\ndescription: "ab\ud83d"\n'}[method]
    with pytest.raises(rs.ProgrammeError) as e:
        getattr(rs.Programme, method)(text, file="p.txt")
    assert (e.value.line, e.value.file) == (2, "p.txt")
    assert "p.txt, line 2, column" in str(e.value) and "lone surrogate U+D83D" in str(e.value)
    with pytest.raises(rs.ModelError) as e:
        getattr(rs.Model, method)(text)
    assert e.value.line == 2
    with pytest.raises(rs.ProgrammeError, match="expected the programme as text"):
        getattr(rs.Programme, method)(b"name = 1")


def test_lone_surrogate_in_a_table_names_row_and_column():
    partners, tx = frames()
    # an object column: pandas' Arrow-backed strings (pandas 3 with pyarrow) cannot hold one
    tx["order_id"] = tx["order_id"].astype(object)
    tx.loc[2, "order_id"] = "A\ud800"
    with pytest.raises(rs.DataError) as e:
        rs.settle(programme(), partners, tx)
    assert (e.value.row, e.value.column) == (3, "order_id")


def test_paths_that_are_not_utf8_or_empty():
    with pytest.raises(rs.FileError, match="is not valid UTF-8"):
        rs.Programme.from_file("/tmp/\udcff.toml")
    with pytest.raises(rs.RequestError, match="programme: expected a file path, found an empty string"):
        rs.Programme.from_file("")
    with pytest.raises(rs.FileError, match="NUL"):
        rs.Model.from_file("a\0b.toml")
    partners, tx = frames()
    with pytest.raises(rs.FileError, match="transactions: the path"):
        rs.settle(programme(), partners, "tx\udcff.csv")


def test_compare_designs_argument():
    p, pop = programme(), population()
    with pytest.raises(rs.RequestError, match=r"designs\[1\]: expected a \(name, programme\) pair"):
        rs.compare([("a", p), p], pop, MODEL, scenarios=5, progress=False)
    with pytest.raises(rs.RequestError, match="designs: expected a dict"):
        rs.compare(p, pop, MODEL, scenarios=5, progress=False)
    with pytest.raises(rs.RequestError, match=r"designs\[1\] name: expected valid Unicode text"):
        rs.compare({"a": p, "b\ud800": p}, pop, MODEL, scenarios=5, progress=False)
