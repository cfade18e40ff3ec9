"""The ``rebatesim`` command line.

::

    rebatesim validate programme.toml
    rebatesim settle --programme programme.toml --partners partners.csv \\
        --transactions transactions.csv [--json | --out DIR [--force]]
    rebatesim demo

Every error is printed on stderr as one message naming where the problem is
(file line and field path, or table row and column), the exit status is
non-zero, and nothing is written.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence

from . import __version__
from .exceptions import RebatesimError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _money(v: Any, dp: int) -> str:
    import decimal

    return f"{decimal.Decimal(v):,.{dp}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    widths = [len(h) for h in header]
    for r in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, r)]

    def fmt(r: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if ra else c.ljust(w) for c, w, ra in zip(r, widths, right)).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt(header), sep] + [fmt(r) for r in rows])


def _settlement_summary(s: Any) -> str:
    """A human summary of a settlement: totals, adjustments, per component and segment."""
    dp = s._core.decimals
    cur = s.currency
    t = s.totals
    lines = s.lines_exact
    bp = s.by_partner(exact=True)
    out: List[str] = []
    out.append(f"{s._core.programme} ({cur}): {len(bp):,} partners, {len(lines):,} lines")
    out.append("")
    rows = [["calculated", _money(t["calculated"], dp)]]
    for key, label in (
        ("adj_component_cap", "component caps"),
        ("adj_exclusive_group", "exclusive groups"),
        ("adj_partner_cap", "partner cap"),
        ("adj_minimum_payout", "minimum payout"),
        ("adj_budget_cut", "budget cut"),
    ):
        if t[key] != 0:
            rows.append([label, _money(t[key], dp)])
    rows.append(["payable", _money(t["payable"], dp)])
    out.append(_table(["total", cur], rows, [False, True]))
    if s.budget_binding:
        out.append("(the programme budget binds: payouts were cut pro rata)")
    out.append("")
    comp_rows = []
    for comp, g in lines.groupby("component", sort=True):
        paid_partners = g.groupby("partner_id")["payable"].sum()
        comp_rows.append([
            str(comp),
            str(g["kind"].iloc[0]),
            f"{int((paid_partners > 0).sum()):,}",
            _money(sum(g["calculated"]), dp),
            _money(sum(g["payable"]), dp),
        ])
    out.append(_table(["component", "kind", "partners paid", "calculated", "payable"], comp_rows, [False, False, True, True, True]))
    out.append("")
    seg_rows = []
    for seg, g in bp.groupby("segment", sort=True):
        seg_rows.append([
            str(seg) or "-",
            f"{len(g):,}",
            f"{int((g['payable'] > 0).sum()):,}",
            _money(sum(g["payable"]), dp),
        ])
    out.append(_table(["segment", "partners", "paid", "payable"], seg_rows, [False, True, True, True]))
    return "\n".join(out)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .programme import Programme

    p = Programme.from_file(args.file)
    n = len(p.component_ids)
    print(f"OK: {p.name}, {n} component{'s' if n != 1 else ''}")
    return 0


def _settle(args: argparse.Namespace) -> Any:
    from .settlement import settle

    return settle(args.programme, args.partners, args.transactions)


def _emit_settlement(s: Any, args: argparse.Namespace) -> int:
    if args.out:
        s.to_csv(args.out, force=args.force)
    if args.json:
        sys.stdout.write(s.to_json().rstrip("\n") + "\n")
    else:
        print(_settlement_summary(s))
        if args.out:
            print(f"\nwrote lines.csv, partners.csv, standings.csv, summary.json to {args.out}")
    return 0


def _cmd_settle(args: argparse.Namespace) -> int:
    return _emit_settlement(_settle(args), args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from ._examples import example_path
    from .programme import Programme
    from .settlement import settle

    programme = Programme.from_file(example_path("programme.toml"))
    if not args.json:
        print(f"Settling the bundled example: {programme!r}")
        print(f"  {example_path('programme.toml')}\n")
    s = settle(programme, example_path("partners.csv"), example_path("transactions.csv"))
    return _emit_settlement(s, args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``rebatesim`` command."""
    parser = argparse.ArgumentParser(
        prog="rebatesim",
        description="Design, simulate and budget B2B volume-incentive rebate programmes.",
    )
    parser.add_argument("--version", action="version", version=f"rebatesim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    v = sub.add_parser("validate", help="check a programme file", description="Check a programme file (TOML, JSON or YAML).")
    v.add_argument("file", help="programme file (.toml, .json, .yaml)")
    v.set_defaults(func=_cmd_validate)

    def outputs(p: argparse.ArgumentParser) -> None:
        g = p.add_mutually_exclusive_group()
        g.add_argument("--json", action="store_true", help="print the settlement as JSON on stdout")
        p.add_argument("--out", metavar="DIR", help="write lines.csv, partners.csv, standings.csv and summary.json to DIR")
        p.add_argument("--force", action="store_true", help="replace an existing non-empty --out DIR")

    s = sub.add_parser(
        "settle",
        help="settle a programme on actual transactions",
        description="Compute exactly what every partner is owed, line by line, with explanations.",
    )
    s.add_argument("--programme", required=True, metavar="FILE", help="programme file")
    s.add_argument("--partners", required=True, metavar="CSV", help="partner table (partner_id, segment, baselines)")
    s.add_argument("--transactions", required=True, metavar="CSV", help="transactions (partner_id, date, quantity, revenue, category, order_id)")
    outputs(s)
    s.set_defaults(func=_cmd_settle)

    d = sub.add_parser("demo", help="run the bundled distributor example", description="Settle the bundled distributor example.")
    outputs(d)
    d.set_defaults(func=_cmd_demo)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``rebatesim`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "json", False) and getattr(args, "out", None):
        parser.error("--json and --out cannot be used together")
    if getattr(args, "force", False) and not getattr(args, "out", None):
        parser.error("--force only applies with --out DIR")
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except RebatesimError as e:
        print(f"rebatesim: error: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("rebatesim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `rebatesim settle ... --json | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
