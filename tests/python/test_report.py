"""Report folders (simulate/compare/demo --out), atomic writes, Excel, schedules, progress."""

from __future__ import annotations

import html.parser
import io
import json
import os
import re
import sys

import numpy as np
import pandas as pd
import pytest

import rebatesim as rs
from conftest import run_cli
from rebatesim import cli
from rebatesim.outputs import AtomicFolder, write_folder

MODEL = """\
[noise]
sigma = 0.3
[market]
sigma = 0.1
[economics]
margin_rate = 0.2
category_mix = { cable = 0.7, tools = 0.3 }
unit_price = 100
"""

SIM_FILES = {
    "report.html", "summary.json", "summary.csv", "scenarios.csv", "segments.csv", "components.csv", "tiers.csv",
    "accrual.csv", "accrual_schedule.csv", "cash_schedule.csv", "partners.csv", "results.xlsx",
    "payout_distribution.svg", "payout_distribution.png", "tier_attainment.svg", "tier_attainment.png",
    "accrual_cash.svg", "accrual_cash.png", "manifest.json",
}
COMPARE_FILES = {
    "report.html", "summary.json", "summary.csv", "differences.csv", "segments.csv", "results.xlsx",
    "design_comparison.svg", "design_comparison.png", "risk_return.svg", "risk_return.png",
    "accrual_by_design.svg", "accrual_by_design.png", "manifest.json",
}


@pytest.fixture
def sim_files(files, tmp_path):
    model = tmp_path / "model.toml"
    model.write_text(MODEL)
    richer = tmp_path / "richer.toml"
    richer.write_text(files["programme"].read_text().replace('name = "Distributor 2027"', 'name = "Richer"')
                      .replace("percent = 2.5", "percent = 3"))
    return {**files, "model": model, "richer": richer}


def sim_args(f, out=None, *extra):
    args = ["simulate", "--programme", str(f["programme"]), "--partners", str(f["partners"]),
            "--model", str(f["model"]), "--scenarios", "30", *extra]
    return args + (["--out", str(out)] if out else [])


def compare_args(f, out=None):
    args = ["compare", "--programme", str(f["programme"]), "--programme", str(f["richer"]),
            "--partners", str(f["partners"]), "--model", str(f["model"]), "--scenarios", "30"]
    return args + (["--out", str(out)] if out else [])


class _Resources(html.parser.HTMLParser):
    """Every attribute that could load something, every <link>, <script> and <style> text."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list = []
        self.links: list = []
        self.scripts: list = []
        self.styles: list = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("src", "href", "xlink:href", "srcset", "poster", "data", "background", "action"):
            if a.get(key):
                self.refs.append((tag, key, a[key]))
        if tag == "link":
            self.links.append(a)
        if tag == "script":
            self.scripts.append(a)
        if tag == "style":
            self._in_style = True
        if a.get("style"):
            self.styles.append(a["style"])

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


def assert_self_contained(page: str) -> None:
    p = _Resources()
    p.feed(page)
    external = [r for r in p.refs if not r[2].startswith("#")]
    assert external == [], f"report.html refers to other resources: {external}"
    assert p.links == [] and p.scripts == []
    for css in p.styles:
        assert "@import" not in css
        for url in re.findall(r"url\(([^)]*)\)", css):
            assert url.strip("'\" ").startswith(("#", "data:")), url
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)


def test_simulate_report_folder(sim_files, tmp_path):
    out = tmp_path / "report"
    r = run_cli(sim_args(sim_files, out), tmp_path)
    assert r.returncode == 0, r.stderr
    assert "report.html" in r.stdout
    assert {p.name for p in out.iterdir()} == SIM_FILES
    page = (out / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert page.count("<svg") == 3  # the three charts, inline
    for heading in ("Summary", "Accrual and cash schedule", "By segment", "By component", "Tier attainment",
                    "Inputs", "Method"):
        assert f"<h2>{heading}</h2>" in page
    assert "±" in page and "2027-01" in page and "Distributor 2027" in page
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"]["scenarios"] == 30
    assert len(summary["cash_schedule"]) >= 12 and summary["accrual_schedule"][0]["month"] == "2027-01"
    assert pd.read_csv(out / "summary.csv", index_col=0).loc["payout", "mean"] == pytest.approx(
        summary["summary"]["payout"]["mean"]["value"])
    for name in SIM_FILES:
        if name.endswith(".png"):
            assert (out / name).read_bytes()[:4] == b"\x89PNG"
        if name.endswith(".svg"):
            assert (out / name).read_text().lstrip().startswith("<svg")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_compare_report_folder(sim_files, tmp_path):
    out = tmp_path / "cmp"
    r = run_cli(compare_args(sim_files, out), tmp_path)
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} == COMPARE_FILES
    page = (out / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "Richer − Distributor 2027" in page and page.count("<svg") == 3
    diff = pd.read_csv(out / "differences.csv", index_col=0)
    assert diff.loc["Richer", "payout_mean"] >= 0 and diff.loc["Richer", "reference"] == "Distributor 2027"


def test_out_refuses_existing_folder_and_force_replaces(sim_files, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    r = run_cli(sim_args(sim_files, out), tmp_path)
    assert r.returncode == 1 and "not empty" in r.stderr and "--force" in r.stderr
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    r = run_cli(sim_args(sim_files, out, "--force"), tmp_path)
    assert r.returncode == 0, r.stderr
    assert {p.name for p in out.iterdir()} == SIM_FILES
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.fixture(scope="module")
def small_result():
    p = rs.Programme.new("Small", "EUR", "2027-01-01", "quarter", 4,
                         [rs.volume("north_vol", [(20_000, "1%"), (40_000, "2%"), (60_000, "3%")], segments=["north"]),
                          rs.volume("south_vol", [(20_000, "1%"), (40_000, "2%")], segments=["south"])],
                         segments=["north", "south"], budget=30_000)
    pop = rs.Population.synthetic({"north": {"count": 40, "median_baseline": 100_000, "dispersion": 0.4},
                                   "south": {"count": 30, "median_baseline": 80_000, "dispersion": 0.4}}, seed=3)
    model = {"noise": {"sigma": 0.25}, "market": {"sigma": 0.1}, "economics": {"margin_rate": 0.25}}
    r = rs.simulate(p, pop, model, scenarios=40, seed=5, progress=False)
    p2 = rs.Programme.from_dict({**p.to_dict(), "name": "Small+"})
    c = rs.compare({"Small": p, "Small+": p2}, pop, model, scenarios=40, seed=5, progress=False)
    return r, c


@pytest.mark.parametrize("exc", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_failure_mid_write_keeps_old_folder(small_result, tmp_path, monkeypatch, exc):
    r, _ = small_result
    out = tmp_path / "report"
    out.mkdir()
    (out / "old.txt").write_text("old")
    calls = {"n": 0}
    real = rs.Chart.to_png

    def failing_png(self, scale=1.0):
        calls["n"] += 1
        if calls["n"] == 2:
            raise exc
        return real(self, scale)

    monkeypatch.setattr(rs.Chart, "to_png", failing_png)
    with pytest.raises(type(exc)):
        rs.simulation_report(r).write(out, force=True)
    assert [p.name for p in out.iterdir()] == ["old.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no temporary folder left
    calls["n"] = 0
    with pytest.raises(type(exc)):
        rs.simulation_report(r).write(tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["report"]


def test_atomic_folder_swap_failure_restores_old(tmp_path, monkeypatch):
    out = tmp_path / "f"
    write_folder(out, {"a.txt": "old"})
    real_rename = os.rename

    def rename(src, dst):
        if os.fspath(dst) == str(out) and ".tmp-" in os.fspath(src):
            raise OSError(28, "No space left on device")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(rs.FileError, match="No space left"):
        write_folder(out, {"b.txt": "new"}, force=True)
    assert [p.name for p in out.iterdir()] == ["a.txt"] and (out / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_atomic_folder_api(tmp_path):
    with AtomicFolder(tmp_path / "x") as f:
        f.write_text("a.csv", "1\n")
        f.write_bytes("b.bin", b"\0")
        assert not (tmp_path / "x").exists()  # nothing visible until the block ends
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == ["a.csv", "b.bin"]
    with pytest.raises(rs.FileError, match="not empty"):
        AtomicFolder(tmp_path / "x")
    (tmp_path / "file").write_text("")
    with pytest.raises(rs.FileError, match="not a folder"):
        write_folder(tmp_path / "file", {"a": "b"}, force=True)


def _read_back(path, sheets):
    back = pd.read_excel(path, sheet_name=None, index_col=None)
    assert list(back) == list(sheets)
    for name, df in sheets.items():
        got = back[name].set_index(list(back[name].columns[: df.index.nlevels]))
        exp = df.reset_index().set_index(list(df.index.names)) if df.index.nlevels > 1 else df
        got.index.names = exp.index.names
        got.columns = [str(c) for c in got.columns]
        exp = exp.copy()
        exp.columns = [str(c) for c in exp.columns]
        # Excel has no NaN/bool/str index types: compare values as numbers where they are numbers
        for col in exp.columns:
            if exp[col].dtype == bool:
                exp[col] = exp[col].astype(np.int64)
                got[col] = got[col].astype(np.int64)
        if not isinstance(exp.index, pd.MultiIndex):
            exp.index = exp.index.map(str)
            got.index = got.index.map(str)
        # the workbook holds money rounded to the cent and ratios to 6 places (rebatesim._format)
        pd.testing.assert_frame_equal(got, exp, check_dtype=False, check_index_type=False, rtol=0, atol=0.00501,
                                      obj=f"sheet {name}")


def test_excel_round_trip(small_result, tmp_path):
    r, c = small_result
    path = tmp_path / "result.xlsx"
    r.to_excel(path)
    _read_back(path, r.excel_sheets())
    assert set(r.excel_sheets()) >= {"summary", "segments", "components", "tiers", "partners", "accrual_schedule",
                                     "cash_schedule"}
    cpath = tmp_path / "comparison.xlsx"
    c.to_excel(cpath)
    _read_back(cpath, c.excel_sheets())
    assert [p.name for p in tmp_path.iterdir()] == ["comparison.xlsx", "result.xlsx"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["comparison.xlsx", "result.xlsx"]
    with pytest.raises(rs.RequestError, match=".xlsx"):
        r.to_excel(tmp_path / "result.csv")


def test_schedules(small_result):
    r, _ = small_result
    a, cash = r.accrual_schedule(), r.cash_schedule()
    assert list(a.index) == [f"2027-{m:02d}" for m in range(1, 13)]
    assert len(cash) >= 12
    assert np.allclose(a["in_month"], r._mat["accrual"].mean(axis=0))
    assert np.allclose(a["mean"], np.cumsum(r._mat["accrual"], axis=1).mean(axis=0))
    cum = np.cumsum(r._mat["cash"], axis=1)
    for q in (10, 25, 50, 75, 90):
        assert np.allclose(cash[f"p{q}"], np.percentile(cum, q, axis=0))
    assert np.allclose(cash["mean_se"], cum.std(axis=0, ddof=1) / np.sqrt(r.n_scenarios))
    assert cash["mean"].iloc[-1] == pytest.approx(r.payout.mean())
    assert a["mean"].iloc[-1] == pytest.approx(r.payout.mean())
    assert (a[["p10", "p25", "p50", "p75", "p90"]].diff(axis=1).iloc[:, 1:] >= 0).all().all()


def test_repr_html(small_result):
    r, c = small_result
    h = r._repr_html_()
    assert "Expected payout" in h and "±" in h and "Budget" in h and "30,000" in h and "north" in h
    h = c._repr_html_()
    assert "Small+ − Small" in h and "±" in h and "P(budget binds)" in h
    # a whole report shows isolated in an iframe, its CSS cannot restyle the notebook
    h = rs.simulation_report(r, excel=False)._repr_html_()
    assert h.startswith("<iframe srcdoc=") and "<style>" not in h and "&lt;style&gt;" in h


def test_tier_attainment_per_segment(small_result):
    r, _ = small_result
    t = r.tiers
    assert set(t.label) == {"north", "south"}
    chart = rs.report.simulation_charts(r)["tier_attainment"]
    svg = chart.to_svg()
    assert "Tier 3" in svg and "north" in svg and "south" in svg


def test_progress_on_stderr_only(sim_files, monkeypatch, tmp_path):
    class TTY(io.StringIO):
        def isatty(self):
            return True

    out, err = io.StringIO(), TTY()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert cli.main(sim_args(sim_files)) == 0
    assert "scenario" in err.getvalue() and "%" in err.getvalue()  # the tqdm bar
    assert "\r" not in out.getvalue() and "scenario/s" not in out.getvalue()
    out2, err2 = io.StringIO(), TTY()
    monkeypatch.setattr(sys, "stdout", out2)
    monkeypatch.setattr(sys, "stderr", err2)
    assert cli.main(sim_args(sim_files, None, "--json")) == 0
    j = json.loads(out2.getvalue())  # stdout is exactly the JSON document
    assert j["meta"]["scenarios"] == 30 and "cash_schedule" in j
    # no progress bar with --json: stderr holds only the run's warnings (the fixture's P3 has no baseline)
    lines = err2.getvalue().splitlines()
    assert lines and all(line.startswith("rebatesim: warning: ") for line in lines), lines


def test_demo_writes_its_folder(tmp_path):
    args = ["demo", "--scenarios", "8", "--sensitivity-scenarios", "4"]
    r = run_cli(args, tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "rebatesim-demo"
    names = {p.name for p in out.iterdir()}
    assert {"report.html", "summary.json", "summary.csv", "results.xlsx", "sensitivity_payout.svg",
            "sensitivity_payout.png", "data"} <= names
    # the detail in data/, out of the report's own files (small enough to attach to an email)
    detail = {"settlement_lines.csv", "settlement_partners.csv", "scenarios.csv", "partners.csv"}
    assert {p.name for p in (out / "data").iterdir()} == detail
    assert SIM_FILES - {"summary.json", "manifest.json"} - detail <= names and not detail & names
    assert sum(p.stat().st_size for p in out.iterdir() if p.is_file()) < 3_000_000
    page = (out / "report.html").read_text(encoding="utf-8")
    assert_self_contained(page)
    assert "Settlement of the actual year" in page and "18,000,000.00" in page and "Sensitivity" in page
    # the check compares before the budget cut (after it the actual payout is the budget)
    assert "before the budget cut 18,510,258.88" in page and "Scenarios at or below the actual" in page
    # the forecast ran under the calibration's parameter draws, and the inputs say so
    assert "Input uncertainty" in page and "20 parameter draws" in page
    r = run_cli(args, tmp_path)
    assert r.returncode == 1 and "rebatesim-demo" in r.stderr and "--force" in r.stderr
    r = run_cli(["demo", "--scenarios", "4", "--no-report"], tmp_path)
    assert r.returncode == 0 and "wrote the report" not in r.stdout
