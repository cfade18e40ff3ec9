"""The ``rebatesim`` commands on documents and exact amounts: ``validate`` (a programme
file), ``settle`` (exact settlement of actual transactions) and ``verify`` (re-perform a run
from its manifest)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from . import _cli_common as common
from . import _cli_options as opt
from ._display import settlement_text


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
        # the lines straight from the core's columns into the folder being built (renamed
        # into place only once every file is complete)
        with args.outputs:
            s._write(args.out_target.path, csv=args.csv, parquet=True)
            common.write_manifest(args, args.out_target.path)
    if args.json:
        sys.stdout.write(s.to_json().rstrip("\n") + "\n")
    else:
        print(settlement_text(s))
        for partner in args.explain or []:
            print("\n" + s.explain(partner).rstrip("\n"))
        if args.out:
            lines = "lines.parquet, lines.csv" if args.csv else "lines.parquet"
            print(f"\nwrote {lines}, partners.csv, standings.csv, summary.json to {args.out}")
    return 0


def _cmd_settle(args: argparse.Namespace) -> int:
    common.declare_outputs(args)
    return _emit_settlement(_settle(args), args)



def _cmd_verify(args: argparse.Namespace) -> int:
    from .manifest import verify

    v = verify(args.dir)
    print(v.text())
    return 0 if v.ok else common.EXIT_ERROR


def add_validate_parser(sub: Any) -> None:
    """The ``validate`` sub-command's arguments."""
    v = sub.add_parser("validate", help="check a programme file", description="Check a programme file (TOML, JSON or YAML).")
    v.add_argument("file", type=opt.path, help="programme file (.toml, .json, .yaml)")
    v.set_defaults(func=_cmd_validate)


def add_settle_parser(sub: Any) -> None:
    """The ``settle`` sub-command's arguments."""
    s = sub.add_parser(
        "settle",
        help="settle a programme on actual transactions",
        description="Compute exactly what every partner is owed, line by line, with explanations.",
    )
    s.add_argument("--programme", required=True, metavar="FILE", type=opt.path, help="programme file")
    s.add_argument("--partners", required=True, metavar="CSV", type=opt.path, help="partner table (partner_id, segment, baselines)")
    s.add_argument("--transactions", required=True, metavar="CSV", type=opt.path, help="transactions (partner_id, date, quantity, revenue, category, order_id)")
    opt.outputs(s, out_help="write lines.parquet (exact amounts), partners.csv, standings.csv and summary.json to DIR")
    s.add_argument("--csv", action="store_true", help="with --out: also write lines.csv (every line with its explanation)")
    s.add_argument("--explain", action="append", type=opt.partner, metavar="PARTNER", help="print the statement of PARTNER (repeatable)")
    s.set_defaults(func=_cmd_settle)


def add_verify_parser(sub: Any) -> None:
    """The ``verify`` sub-command's arguments."""
    vf = sub.add_parser("verify", help="re-perform a run from its manifest.json and compare the outputs",
                        description="Re-run the settle, simulate or forecast recorded in DIR/manifest.json (refused when an "
                                    "input file changed) and confirm every output to the cent, or list what differs.")
    vf.add_argument("dir", metavar="DIR", type=opt.path, help="an output folder written with --out")
    vf.set_defaults(func=_cmd_verify)
