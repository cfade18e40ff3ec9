"""Every bad-input class from Python raises the right rebatesim exception
(a ValueError) whose message names the field path or the row and column."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs
from conftest import PARTNERS, PROGRAMME, TRANSACTIONS


def test_hierarchy():
    for cls in (rs.ProgrammeError, rs.ModelError, rs.DataError, rs.RequestError, rs.FileError):
        assert issubclass(cls, rs.RebatesimError)
        assert issubclass(cls, ValueError)
    assert issubclass(rs.FileError, OSError)


def base():
    return rs.Programme.from_toml(PROGRAMME).to_dict()


def comp(d, cid):
    return next(c for c in d["components"] if c["id"] == cid)


def case_thresholds(d):
    comp(d, "volume")["tiers"][2]["from"] = 200000


def case_negative_rate(d):
    comp(d, "volume")["tiers"][1]["percent"] = -1


def case_rate_over_100(d):
    comp(d, "volume")["tiers"][1]["percent"] = 120


def case_unknown_kind(d):
    comp(d, "pallet")["kind"] = "loyalty"


def case_unknown_segment(d):
    comp(d, "growth")["segments"] = ["wholesale"]


def case_unknown_category(d):
    comp(d, "tools")["categories"] = ["paint"]


def case_empty_ladder(d):
    comp(d, "volume")["tiers"] = []


def case_bad_start(d):
    d["start"] = "2027-02-30"


def case_nan(d):
    comp(d, "volume")["tiers"][0]["from"] = math.nan


@pytest.mark.parametrize(
    "mutate, path, words",
    [
        (case_thresholds, "components[0].tiers[2].from", "increase"),
        (case_negative_rate, "components[0].tiers[1].percent", "between 0 and 100"),
        (case_rate_over_100, "components[0].tiers[1].percent", "between 0 and 100"),
        (case_unknown_kind, "components[3].kind", "loyalty"),
        (case_unknown_segment, "components[1].segments[0]", "wholesale"),
        (case_unknown_category, "components[2].categories[0]", "paint"),
        (case_empty_ladder, "components[0].tiers", "empty"),
        (case_bad_start, "start", "YYYY-MM-DD"),
        (case_nan, "components[0].tiers[0].from", "nan"),
    ],
)
def test_bad_programmes_from_dict(mutate, path, words):
    d = base()
    mutate(d)
    with pytest.raises(rs.ProgrammeError) as info:
        rs.Programme.from_dict(d)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.path == path, str(e)
    assert path in str(e) and words in str(e)
    assert e.line is None  # no file: no misleading position


def test_bad_programme_file_names_file_and_line(tmp_path):
    text = PROGRAMME.replace('start = 2027-01-01', 'start = "next year"')
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(rs.ProgrammeError) as info:
        rs.Programme.from_file(f)
    e = info.value
    assert e.file and e.file.endswith("bad.toml")
    assert e.path == "start" and e.line == 3
    assert "bad.toml, line 3" in str(e)


def test_rule_violation_in_file_has_line(tmp_path):
    text = PROGRAMME.replace("{ from = 1000000, percent = 3.5 }", "{ from = 1000, percent = 3.5 }")
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(rs.ProgrammeError) as info:
        rs.Programme.from_file(f)
    assert info.value.path == "components[0].tiers[2].from"
    assert info.value.line == 16


def test_a_mistake_in_each_component_is_reported_at_once(tmp_path):
    text = PROGRAMME.replace("{ from = 1000000, percent = 3.5 }", "{ from = 1000, percent = 3.5 }")
    text = text.replace('segments = ["trade"]', 'segments = ["trade", "wholesale"]')
    text = text.replace("per_order = 25", "per_order = -25")
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(rs.ProgrammeError) as info:
        rs.Programme.from_file(f)
    e = info.value
    # the attributes locate the first problem; `errors` has every one, in document order
    assert (e.path, e.line) == ("components[0].tiers[2].from", 16)
    assert [(p.path, p.line) for p in e.errors] == [
        ("components[0].tiers[2].from", 16),
        ("components[1].segments[1]", 21),
        ("components[3].per_order", 36),
    ]
    assert all(isinstance(p, rs.FieldProblem) and p.file and p.file.endswith("bad.toml") for p in e.errors)
    assert "wholesale" in e.errors[1].reason
    lines = str(e).splitlines()
    assert len(lines) == 3 and lines[1].startswith("  also ") and "line 36" in lines[2]
    # through pickling (multiprocessing) too
    import pickle

    again = pickle.loads(pickle.dumps(e))
    assert again.errors == e.errors and str(again) == str(e)
    # one problem: `errors` is that one
    with pytest.raises(rs.ProgrammeError) as info:
        rs.Programme.from_json('{"name": "x", "currency": 5}')
    assert [p.path for p in info.value.errors] == ["currency"]


def test_syntax_errors_yaml_json():
    with pytest.raises(rs.ProgrammeError) as info:
        rs.Programme.from_json('{"name": "x", "currency": 5}')
    assert info.value.path == "currency" and info.value.line == 1
    with pytest.raises(rs.ProgrammeError):
        rs.Programme.from_yaml("name: [unclosed")
    with pytest.raises(rs.ProgrammeError, match="expected a dict"):
        rs.Programme.from_dict([1, 2])  # type: ignore[arg-type]


def test_missing_file_is_file_error(tmp_path):
    with pytest.raises(rs.FileError) as info:
        rs.Programme.from_file(tmp_path / "nope.toml")
    assert isinstance(info.value, OSError)
    assert info.value.path.endswith("nope.toml")
    with pytest.raises(rs.RequestError, match="extension"):
        rs.Programme.from_file(tmp_path / "programme.txt")
    with pytest.raises(rs.FileError):
        rs.settle(PROGRAMME_TOML(tmp_path), tmp_path / "missing.csv", tmp_path / "missing2.csv")


def PROGRAMME_TOML(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text(PROGRAMME)
    return f


def frames():
    from io import StringIO

    return pd.read_csv(StringIO(PARTNERS)), pd.read_csv(StringIO(TRANSACTIONS))


@pytest.mark.parametrize(
    "mutate, row, column, words",
    [
        (lambda t: t.drop(columns="revenue"), None, "revenue", "missing column"),
        (lambda t: t.assign(revenue=t["revenue"].astype(object).where(t.index != 2, "12,x")), 3, "revenue", "expected a number"),
        # pandas hands a NaN over Arrow as a missing value (null): an empty cell, by row
        (lambda t: t.assign(quantity=t["quantity"].astype(float).where(t.index != 4, np.nan)), 5, "quantity", "expected a number"),
        (lambda t: t.assign(revenue=t["revenue"].astype(float).where(t.index != 1, np.inf)), 2, "revenue", "finite"),
        (lambda t: t.assign(date=t["date"].where(t.index != 6, "2029-01-01")), 7, "date", "outside the programme"),
        (lambda t: t.assign(partner_id=t["partner_id"].where(t.index != 3, "P9")), 4, "partner_id", "unknown partner"),
        (lambda t: t.assign(date=t["date"].where(t.index != 0, "soon")), 1, "date", "date"),
    ],
)
def test_bad_transactions_name_row_and_column(mutate, row, column, words):
    partners, tx = frames()
    bad = mutate(tx)
    with pytest.raises(rs.DataError) as info:
        rs.settle(rs.Programme.from_toml(PROGRAMME), partners, bad)
    e = info.value
    assert isinstance(e, ValueError)
    assert e.table == "transactions" and e.row == row and e.column == column, str(e)
    assert words in str(e)
    if row is not None:
        assert f"row {row}" in str(e)


def test_dataframe_and_file_report_the_same_row(files, tmp_path):
    partners, tx = frames()
    tx["revenue"] = tx["revenue"].astype(object)
    tx.loc[5, "revenue"] = "lots"
    f = tmp_path / "bad.csv"
    tx.to_csv(f, index=False)
    with pytest.raises(rs.DataError) as a:
        rs.settle(files["programme"], partners, tx)
    with pytest.raises(rs.DataError) as b:
        rs.settle(files["programme"], files["partners"], f)
    assert (a.value.row, a.value.column) == (b.value.row, b.value.column) == (6, "revenue")
    assert b.value.table == "bad.csv"


def test_bad_partner_table():
    partners, tx = frames()
    partners.loc[1, "partner_id"] = "P1"
    with pytest.raises(rs.DataError, match="row 2"):
        rs.settle(rs.Programme.from_toml(PROGRAMME), partners, tx)
    partners, tx = frames()
    partners.loc[0, "segment"] = "wholesale"
    with pytest.raises(rs.DataError, match="wholesale"):
        rs.settle(rs.Programme.from_toml(PROGRAMME), partners, tx)


def test_wrong_argument_types_are_request_errors():
    with pytest.raises(rs.RequestError):
        rs.settle(42, "a.csv", "b.csv")
    partners, tx = frames()
    with pytest.raises(rs.RequestError):
        rs.settle(rs.Programme.from_toml(PROGRAMME), [1, 2], tx)


def test_unknown_partner_in_explain():
    partners, tx = frames()
    s = rs.settle(rs.Programme.from_toml(PROGRAMME), partners, tx)
    with pytest.raises(rs.RequestError, match="unknown partner 'P9'"):
        s.explain("P9")
