"""rs.calibrate and `rebatesim calibrate` on bad or thin input: each names what is missing
(docs/calibration.md, "Bad input"); programme= and as_of=; the fit report and the folder."""

import math
import os
import warnings

import pandas as pd
import pytest

import rebatesim as rs
from rebatesim.cli import main


def _history(months: int, partners: int = 8, *, day: int = 10, every: int = 1, start: int = 2024) -> pd.DataFrame:
    rows = []
    for t in range(0, months, every):
        y, m = start + t // 12, t % 12 + 1
        for j in range(partners):
            amount = 1000 * (j + 1) * math.exp(0.2 * math.cos(t * math.pi / 6) + 0.05 * ((t * 7 + j * 11) % 5 - 2))
            rows.append((f"P{j}", f"{y}-{m:02d}-{day:02d}", 1, round(amount, 2)))
    return pd.DataFrame(rows, columns=["partner_id", "date", "quantity", "revenue"])


def _partners(n: int = 8, segment: str = "trade") -> pd.DataFrame:
    return pd.DataFrame({"partner_id": [f"P{j}" for j in range(n)], "segment": [segment] * n})


QUIET = dict(draws=2, bootstrap=20, warn_segment_partners=0)


def test_short_history_names_the_months_it_has():
    with pytest.raises(rs.DataError) as e:
        rs.calibrate(_history(12), **QUIET)
    assert e.value.column == "date" and "covers 12 months (2024-01 to 2024-12)" in str(e.value)


def test_a_segment_with_too_few_partners_names_it():
    p = _partners()
    p.loc[6:, "segment"] = "tiny"
    with pytest.raises(rs.DataError) as e:
        rs.calibrate(_history(14), p, **QUIET)
    assert e.value.column == "segment"
    assert "segment 'tiny' has 2 partners with purchases in the history; at least 5 are needed" in str(e.value)


def test_partners_without_purchases_are_named_in_a_warning_and_all_zero_is_an_error():
    p = pd.concat([_partners(), pd.DataFrame({"partner_id": ["Z1", "Z2"], "segment": ["trade"] * 2})])
    with pytest.warns(UserWarning, match=r"partners without any purchase in the history: 2 of the 10 .*Z1, Z2"):
        c = rs.calibrate(_history(14), p, **QUIET)
    assert "Z1" not in list(c.partners["partner_id"])
    zero = _history(14)
    zero["revenue"] = 0.0
    with pytest.raises(rs.DataError, match="no partner has a purchase"):
        rs.calibrate(zero, **QUIET)


def test_quarterly_dates_are_refused_as_not_monthly():
    with pytest.raises(rs.DataError) as e:
        rs.calibrate(_history(24, every=3), **QUIET)
    assert e.value.column == "date"
    assert "no purchase at all in 2024-02" in str(e.value) and "quarterly or annual totals" in str(e.value)


def test_a_programme_whose_thresholds_the_history_never_approaches_is_a_warning():
    prog = rs.Programme.new("Far ladder", "EUR", "2024-01-01", "quarter", 4,
                            [rs.volume("vol", [(10_000_000, "1%"), (20_000_000, "2%")])])
    with pytest.warns(UserWarning) as record:
        c = rs.calibrate(_history(24), programme=prog, **QUIET)
    text = [str(w.message) for w in record]
    assert any("programme 'Far ladder': the history never approaches its tier thresholds" in t for t in text), text
    assert any("uplift is an assumption" in t for t in text)
    assert c.behaviour is None
    assert c.bunching_histogram().empty and c.bunching_sensitivity().empty


def test_as_of_cuts_the_history_and_a_mid_month_date_warns():
    c = rs.calibrate(_history(30), as_of="2025-12-31", **QUIET)
    assert len(c.diagnostics["market"]) == 24
    with pytest.warns(UserWarning, match="as_of 2025-12-15 falls inside a month"):
        c = rs.calibrate(_history(30), as_of=pd.Timestamp("2025-12-15"), **QUIET)
    assert c.diagnostics["market"].index[-1] == "2025-11"
    with pytest.raises(rs.DataError, match="up to as_of 2024-06-30"):
        rs.calibrate(_history(30), as_of="2024-06-30", **QUIET)


def test_fit_report_display_and_folder(tmp_path):
    c = rs.calibrate(_history(26), _partners(), **QUIET)
    page = c.report_html()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 5
    for name in ("seasonality", "trend", "residual_qq", "annual_volume", "churn"):
        assert f'<figure id="{name}">' in page
    assert "http" not in page.split("<body>", 1)[1].replace("http://www.w3.org", "")
    html = c._repr_html_()
    assert "market.sigma" in html and "parameter draws" in html
    c.report(tmp_path / "fit.html")
    assert (tmp_path / "fit.html").read_text(encoding="utf-8") .startswith("<!DOCTYPE html>")
    c.save(tmp_path / "cal")
    files = sorted(os.path.relpath(os.path.join(d, f), tmp_path / "cal")
                   for d, _, fs in os.walk(tmp_path / "cal") for f in fs)
    assert {"model.toml", "estimates.csv", "partners_calibrated.csv", "report.html", "warnings.txt",
            "draws/draw_0000.toml", "draws/draw_0001.toml", "charts/churn.png", "charts/seasonality.svg",
            "diagnostics/segment_months.csv", "diagnostics/churn.csv"} <= set(files)
    assert rs.Model.from_file(tmp_path / "cal" / "model.toml") == c.model
    with pytest.raises(rs.FileError):
        c.save(tmp_path / "cal")  # exists: only with force
    c.save(tmp_path / "cal", force=True)


def test_cli_calibrate_writes_the_folder_and_warnings_on_stderr(tmp_path, capsys):
    _history(26).to_csv(tmp_path / "h.csv", index=False)
    _partners().to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / "out"
    code = main(["calibrate", "--history", str(tmp_path / "h.csv"), "--partners", str(tmp_path / "p.csv"),
                 "--draws", "3", "--bootstrap", "20", "--out", str(out)])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "market.sigma" in cap.out and "wrote model.toml" in cap.out
    assert "rebatesim: warning: segment 'trade' has only 8 partners" in cap.err
    assert (out / "model.toml").exists() and (out / "draws" / "draw_0002.toml").exists()
    # a failing run writes nothing
    _history(12).to_csv(tmp_path / "short.csv", index=False)
    code = main(["calibrate", "--history", str(tmp_path / "short.csv"), "--partners", str(tmp_path / "p.csv"),
                 "--out", str(tmp_path / "none")])
    cap = capsys.readouterr()
    assert code == 1 and "covers 12 months" in cap.err
    assert not (tmp_path / "none").exists()
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".none")]


def test_riskless_runs_warn():
    prog = rs.Programme.new("D", "EUR", "2027-01-01", "year", 1, [rs.volume("v", [(1000, "1%")])])
    pop = rs.Population.synthetic({"s": {"count": 20, "median_baseline": 2000, "dispersion": 0.3}}, seed=1)
    with pytest.warns(UserWarning, match="no demand model given"):
        rs.simulate(prog, pop, None, scenarios=2, progress=False)
    with pytest.warns(UserWarning, match="every random part off"):
        rs.simulate(prog, pop, {"growth": {"rate": 0.05}}, scenarios=2, progress=False)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rs.simulate(prog, pop, {"noise": {"sigma": 0.1}}, scenarios=2, progress=False)


def test_behaviour_is_a_summary_and_its_tables_are_frames():
    """With the programme in force over the history: ``behaviour`` holds the scalar estimates,
    the bunching histogram and the window/degree sensitivity are DataFrames, and they agree."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = rs.calibrate(rs.example_path("history.csv.gz"), rs.example_path("history_partners.csv"),
                         programme=rs.example_path("programme.toml"), draws=2, bootstrap=20)
    b = c.behaviour
    assert b is not None and b["components"] == ["installer_volume"]
    assert not {"counts", "fitted", "sensitivity"} & set(b)
    assert all(isinstance(v, (bool, int, float, str)) for k, v in b.items() if k != "components")
    h = c.bunching_histogram()
    assert list(h.columns) == ["z", "count", "counterfactual"]
    # bins of width bin_width over [-range, range), every observation in one of them
    assert len(h) == round(2 * b["range"] / b["bin_width"])
    assert h.z.iloc[0] == pytest.approx(-b["range"] + b["bin_width"] / 2)
    assert h["count"].sum() == b["observations"]
    s = c.bunching_sensitivity()
    assert list(s.columns) == ["below", "above", "degree", "share", "normalised"]
    main = s[(s.below == b["below"]) & (s.above == b["above"]) & (s.degree == b["degree"])]
    assert len(main) == 1 and main.share.iloc[0] == pytest.approx(b["share"], rel=1e-12)
    inc = c.draw_incidence
    assert list(inc.columns) == ["installer", "online", "retail"] and len(inc) == 2
    assert ((inc > 0) & (inc < 1)).all().all()
