"""All-or-nothing outputs (rebatesim.outputs): several targets committed together, stale
temporaries of killed runs cleaned by the next run (never a live owner's)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import rebatesim as rs
from rebatesim import cli
from rebatesim.outputs import Outputs, _owner, remove_stale, write_folder


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def dead_pid():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_two_targets_are_written_together(tmp_path):
    outs = Outputs()
    folder = outs.folder(tmp_path / "report")
    book = outs.file(tmp_path / "sub" / "book.xlsx", suffixes=(".xlsx",))
    with outs:
        (folder.path / "a.csv").write_text("a\n")
        book.path.write_bytes(b"PK")
    assert listing(tmp_path) == ["report", "sub"]
    assert listing(tmp_path / "report") == ["a.csv"] and listing(tmp_path / "sub") == ["book.xlsx"]


@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError, OSError])
def test_an_interruption_mid_write_leaves_nothing(tmp_path, exc):
    (tmp_path / "keep.txt").write_text("old")
    outs = Outputs()
    folder = outs.folder(tmp_path / "report")
    outs.file(tmp_path / "new" / "deeper" / "book.xlsx")  # declared: its parent folders must not stay behind
    with pytest.raises(exc):
        with outs:
            (folder.path / "a.csv").write_text("a\n")  # the first output in full
            raise exc("Ctrl-C while writing the second")
    assert listing(tmp_path) == ["keep.txt"]  # no temporaries, no created parent folders


def test_a_failed_rename_puts_everything_back(tmp_path, monkeypatch):
    report = tmp_path / "report"
    report.mkdir()
    (report / "old.csv").write_text("old")
    (tmp_path / "book.xlsx").write_text("old book")
    outs = Outputs()
    folder = outs.folder(report, force=True)
    book = outs.file(tmp_path / "book.xlsx")
    real = os.rename
    calls = []

    def rename(a, b):
        calls.append((a, b))
        if len(calls) == 4:  # report swapped in; the book's old one moved aside; then this fails
            raise PermissionError(13, "Permission denied", str(b))
        return real(a, b)

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(rs.FileError, match="Permission denied"):
        with outs:
            (folder.path / "new.csv").write_text("new")
            book.path.write_text("new book")
    monkeypatch.setattr(os, "rename", real)
    assert listing(tmp_path) == ["book.xlsx", "report"]
    assert listing(report) == ["old.csv"] and (tmp_path / "book.xlsx").read_text() == "old book"


def test_a_target_that_appears_meanwhile_is_refused_and_nothing_is_written(tmp_path):
    outs = Outputs()
    book = outs.file(tmp_path / "book.xlsx")
    folder = outs.folder(tmp_path / "report")
    with pytest.raises(rs.FileError, match="not empty"):
        with outs:
            book.path.write_text("book")
            (folder.path / "a.csv").write_text("a")
            (tmp_path / "report").mkdir()
            (tmp_path / "report" / "theirs.txt").write_text("someone else's")
    assert listing(tmp_path) == ["report"] and listing(tmp_path / "report") == ["theirs.txt"]


def test_overlapping_targets_are_refused(tmp_path):
    outs = Outputs()
    outs.folder(tmp_path / "out")
    with pytest.raises(rs.RequestError, match="one inside the other"):
        outs.file(tmp_path / "out" / "f.xlsx")
    with pytest.raises(rs.RequestError, match="the same"):
        outs.folder(tmp_path / "out")


def test_stale_temporaries_of_dead_owners_are_removed_and_live_ones_kept(tmp_path):
    """A simulated kill -9: temporaries named for a process that no longer runs."""
    dead, me = _owner(dead_pid()), _owner()
    stale = tmp_path / f".report.tmp-{dead}-abc12345"
    live = tmp_path / f".report.tmp-{me}-live1234"
    foreign = tmp_path / f".report.tmp-00000000-{dead.split('-', 1)[1]}-far12345"
    legacy = tmp_path / ".report.tmp-q1w2e3r4"  # an older run's name: its owner cannot be told
    other = tmp_path / f".other.tmp-{dead}-abc12345"  # another target's
    for d in (stale, live, foreign, legacy, other):
        d.mkdir()
        (d / "half.csv").write_text("half")
    write_folder(tmp_path / "report", {"a.csv": "a\n"})
    assert listing(tmp_path) == sorted([live.name, foreign.name, legacy.name, other.name, "report"])


def test_a_reused_pid_is_a_dead_owner(tmp_path):
    host, pid, start = _owner().split("-")
    if start == "0":
        pytest.skip("no process start times on this system")
    stale = tmp_path / f".f.xlsx.tmp-{host}-{pid}-{int(start) - 1}-x1"
    stale.mkdir()
    assert remove_stale(tmp_path / "f.xlsx") == [stale]
    assert listing(tmp_path) == []


def test_a_swap_killed_half_way_is_undone(tmp_path):
    """Killed between moving the old folder aside and renaming the new one in: the next
    run puts the old folder back (it is the only copy) and removes the new temporary."""
    dead = _owner(dead_pid())
    old = tmp_path / f".report.old-{dead}-abc12345"
    old.mkdir()
    (old / "kept.csv").write_text("the previous report")
    new = tmp_path / f".report.tmp-{dead}-abc12345"
    new.mkdir()
    remove_stale(tmp_path / "report")
    assert listing(tmp_path) == ["report"]
    assert (tmp_path / "report" / "kept.csv").read_text() == "the previous report"


def test_a_killed_process_leaves_a_temporary_the_next_run_removes(tmp_path):
    """kill -9 for real: a child writing an output is killed mid-write."""
    code = (
        "import os, sys, time\n"
        "from rebatesim.outputs import AtomicFolder\n"
        f"with AtomicFolder({str(tmp_path / 'report')!r}) as f:\n"
        "    f.write_text('half.csv', 'a')\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(60)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "writing"
    left = [n for n in listing(tmp_path) if n.startswith(".report.tmp-")]
    assert len(left) == 1 and f"-{p.pid}-" in left[0]
    remove_stale(tmp_path / "report")  # its owner is alive: kept
    assert [n for n in listing(tmp_path) if n.startswith(".report.tmp-")] == left
    p.kill()
    p.wait()
    write_folder(tmp_path / "report", {"a.csv": "a\n"})
    assert listing(tmp_path) == ["report"]


# ------------------------------------------------------------ the CLI
def forecast_args(files):
    ex = rs.example_path
    return ["forecast", "--programme", ex("programme.toml"), "--partners", ex("partners.csv"),
            "--model", ex("model.toml"), "--actuals", ex("transactions.csv"), "--as-of", "2027-12-31",
            "--scenarios", "4"]


def test_forecast_out_and_excel_both_or_neither(files, tmp_path, monkeypatch, capsys):
    out, book = tmp_path / "fc", tmp_path / "books" / "fc.xlsx"

    def fail(self, path):
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(rs.Forecast, "to_excel", fail)
    status = cli.main(forecast_args(files) + ["--out", str(out), "--excel", str(book)])
    assert status == 1 and "No space left on device" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(files_names(files))  # not fc, not books
    monkeypatch.undo()
    status = cli.main(forecast_args(files) + ["--out", str(out), "--excel", str(book)])
    assert status == 0
    assert "forecast.json" in listing(out) and listing(book.parent) == ["fc.xlsx"]


def files_names(files):
    return [p.name for p in files.values()]


def test_forecast_with_an_unwritable_excel_path_writes_nothing_and_computes_nothing(files, tmp_path, monkeypatch, capsys):
    (tmp_path / "missing").write_text("a file where a folder is expected")
    called = []
    monkeypatch.setattr(sys.modules["rebatesim.forecasting"], "forecast", lambda *a, **k: called.append(1))
    status = cli.main(forecast_args(files) + ["--out", str(tmp_path / "fc"), "--excel", str(tmp_path / "missing" / "dir" / "f.xlsx")])
    assert status == 1 and "exists and is not a folder" in capsys.readouterr().err
    assert called == [] and not (tmp_path / "fc").exists()


def test_settle_out_is_checked_before_settling(files, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("x")
    monkeypatch.setattr(sys.modules["rebatesim.settlement"], "settle", lambda *a, **k: pytest.fail("settled"))
    args = ["settle", "--programme", str(files["programme"]), "--partners", str(files["partners"]),
            "--transactions", str(files["transactions"]), "--out", str(out)]
    assert cli.main(args) == 1 and "not empty" in capsys.readouterr().err


def test_programme_save_is_all_or_nothing(tmp_path, monkeypatch):
    p = rs.Programme.from_file(rs.example_path("programme.toml"))
    target = tmp_path / "p.toml"
    target.write_text("the old file")
    p.save(target)  # replaced
    assert rs.Programme.from_file(target) == p
    with pytest.raises(rs.FileError, match="exists and is not a folder"):
        p.save(target / "inside.toml")
    assert listing(tmp_path) == ["p.toml"]
