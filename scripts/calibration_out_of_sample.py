#!/usr/bin/env python3
"""Out-of-sample study of the calibration (issue 17; results in docs/calibration.md).

For each synthetic world: draw three years of history (2024-2026) at known parameters with
the bundled example's generator (examples/distributor/make_data.py, ``history_lines``: the
distributor's three segments, its installer ladder in force with stretch and pull-forward,
partners who skip months, specialised category mixes, churn and entrants), calibrate on
2024-2025 only (``as_of="2025-12-31"``, with the programme), forecast 2026's payout *before
the year* by simulating the distributor programme moved to 2026 (baselines = each partner's
2025 purchases, its calibrated category mix), and settle 2026 exactly on the world's actual
2026 lines; since session 28 the calibrated populations carry each partner's calibrated
``demand_revenue`` (an entrant's annualised rate; ``--no-demand-level``: the baseline, as
before). Reported across worlds:

- coverage of the forecast's 80% and 90% intervals (P10-P90, P5-P95) of the settled payout
  (nominal 80% / 90%), and the mean of the probability integral transform;
- the same with the hand-written bundled model (examples/distributor/model.toml) and
  population without per-partner mixes (the "before" of issue 17);
- the cross-sell bonus: mean forecast error (forecast mean − settled) / settled, before and
  after.

The comparison covers the partners known at the end of 2025 (entrants of 2026 are in
neither). The calibrated model carries the purchase incidence and the category prices, which
the engine simulates (docs/calibration.md, section 5), and the categories per order estimated
from ``order_id`` (``--spread-categories``: without them, each buying month spread over the
partner's mix, as before session 28). Coverage and error are also reported per component.

    python scripts/calibration_out_of_sample.py --worlds 200 --partners 600 --scenarios 200

Prints a Markdown table and writes ``--json`` (default calibration_out_of_sample.json).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "distributor"))
import make_data  # noqa: E402  (the example's generator)

import rebatesim as rs  # noqa: E402

SHARES = {"installer": 0.58, "retail": 0.28, "online": 0.14}
#: The forecasts compared: the calibrated model (its point estimates), the same run under the
#: calibration's parameter draws (input uncertainty), and the hand-written bundled model.
VARIANTS = ("calibrated", "calibrated+draws", "hand")


def world_partners(rng: random.Random, n: int) -> list:
    """``n`` partners in the example's segments, levels and mixes."""
    out = []
    for g, share in SHARES.items():
        count, median, sigma, base_mix, _ = make_data.SEGMENTS[g]
        for i in range(1, max(5, round(n * share)) + 1):
            out.append(dict(partner_id=f"{make_data.PREFIX[g]}-{i:04d}", segment=g,
                            baseline_revenue=min(max(median * rng.lognormvariate(0.0, sigma), 8_000.0), 1.2e7),
                            mix=make_data.mix_for(rng, base_mix)))
    return out


def world_history(w: int, args: argparse.Namespace) -> tuple:
    """World ``w``'s history lines (2024-2026) and its partners (partner_id, segment)."""
    rng = random.Random(1_000_003 * args.seed + w)
    # leavers churn geometrically, not within the history by construction; every partner is
    # scaled by its noise-free last year unless --anchor-last-year (make_data.history_lines)
    lines, hp = make_data.history_lines(world_partners(rng, args.partners), rng, leavers_leave_within=False,
                                        anchor_last_year=args.anchor_last_year)
    tx = pd.DataFrame(lines, columns=["partner_id", "date", "quantity", "revenue", "category", "order_id"])
    tx["date"] = tx["date"].map(lambda d: d.isoformat())
    return tx, pd.DataFrame(hp, columns=["partner_id", "segment"])


def calibrate_world(w: int, args: argparse.Namespace, tx: pd.DataFrame, partners: pd.DataFrame,
                    prog_hist: rs.Programme) -> rs.Calibration:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return rs.calibrate(tx, partners, programme=prog_hist, as_of="2025-12-31", draws=args.draws,
                            bootstrap=args.bootstrap, seed=w + 1)


def one_world(w: int, args: argparse.Namespace, prog_hist: rs.Programme, prog_2026: rs.Programme,
              hand: rs.Model) -> dict:
    tx, partners = world_history(w, args)
    cal = calibrate_world(w, args, tx, partners, prog_hist)
    p = cal.partners
    known = p[~p["churned"]].copy()
    price = known["unit_price"].fillna(100.0)
    mix_cols = [c for c in known.columns if c.startswith("mix_") and c != "mix_weight"]
    pop = pd.DataFrame({"partner_id": known["partner_id"], "segment": known["segment"],
                        "baseline_revenue": known["last12_revenue"].round(2),
                        "baseline_units": (known["last12_revenue"] / price).round()})
    pop_mix = pd.concat([pop, known[mix_cols].reset_index(drop=True).set_axis(pop.index)], axis=1)
    if not args.no_demand_level:  # the calibrated demand level (an entrant's annualised rate)
        pop_mix["demand_revenue"] = known["demand_revenue"].round(2).to_numpy()
    ids = set(pop["partner_id"])
    actual = tx[(tx["date"] >= "2026-01-01") & tx["partner_id"].isin(ids)]
    s = rs.settle(prog_2026, pop, actual)
    settled = float(s.total)
    by_comp = s.lines.groupby("component")["payable"].sum()
    out = {"world": w, "settled": settled, "cross_sell_settled": float(by_comp.get("cross_sell", 0.0))}
    hand_d = hand.to_dict()

    def with_margin(m: rs.Model) -> rs.Model:
        d = m.to_dict()
        d.setdefault("economics", {})["margin_rate"] = hand_d["economics"]["margin_rate"]
        if args.spread_categories:
            # the months spread over every category (as before categories per order)
            d.get("orders", {}).pop("categories_per_order", None)
            d.get("orders", {}).pop("categories_per_order_segments", None)
        return rs.Model.from_dict(d)

    model_cal = with_margin(cal.model)
    draws = [with_margin(d) for d in cal.draws]
    for name, model, population, pu in (("calibrated", model_cal, pop_mix, False),
                                        ("calibrated+draws", model_cal, pop_mix, draws or False),
                                        ("hand", hand, pop, False)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = rs.simulate(prog_2026, population, model, scenarios=args.scenarios, seed=w, threads=1,
                            progress=False, parameter_uncertainty=pu)
        pay = np.asarray(r.payout)
        q = np.quantile(pay, [0.05, 0.10, 0.90, 0.95])
        comp = r.by_component()
        per_comp = {}
        for j, c in enumerate(r.meta["components"]):
            x = np.asarray(r._mat["component_payout"])[:, j]
            cq = np.quantile(x, [0.05, 0.10, 0.90, 0.95])
            a = float(by_comp.get(c, 0.0))
            per_comp[c] = {"settled": a, "mean": float(x.mean()), "pit": float(np.mean(x <= a)),
                           "in80": bool(cq[1] <= a <= cq[2]), "in90": bool(cq[0] <= a <= cq[3])}
        out[name] = {
            "components": per_comp,
            "mean": float(pay.mean()), "p05": float(q[0]), "p10": float(q[1]), "p90": float(q[2]), "p95": float(q[3]),
            "pit": float(np.mean(pay <= settled)),
            "in80": bool(q[1] <= settled <= q[2]), "in90": bool(q[0] <= settled <= q[3]),
            "cross_sell_mean": float(comp.loc["cross_sell", "payout_mean"]) if "cross_sell" in comp.index else 0.0,
        }
    return out


def summarise(results: list) -> str:
    rows = []
    n = len(results)
    for name in VARIANTS:
        in80 = np.mean([r[name]["in80"] for r in results])
        in90 = np.mean([r[name]["in90"] for r in results])
        se = lambda p: math.sqrt(p * (1 - p) / n)  # noqa: E731
        err = np.mean([(r[name]["mean"] - r["settled"]) / r["settled"] for r in results])
        cs = [(r[name]["cross_sell_mean"] - r["cross_sell_settled"]) / r["cross_sell_settled"]
              for r in results if r["cross_sell_settled"] > 0]
        pit = np.mean([r[name]["pit"] for r in results])
        rows.append(f"| {name} | {n} | {100 * in80:.0f}% ± {100 * se(in80):.0f} | {100 * in90:.0f}% ± {100 * se(in90):.0f} "
                    f"| {pit:.2f} | {100 * err:+.1f}% | {100 * np.mean(cs):+.1f}% |")
    head = ("| model | worlds | 80% interval covers | 90% interval covers | mean PIT | mean error of the payout "
            "forecast | mean error of the cross-sell forecast |\n|---|---|---|---|---|---|---|")
    crows = []
    comps = sorted(results[0]["calibrated"]["components"])
    for c in comps:
        cells = []
        for name in VARIANTS:
            rs_ = [r[name]["components"][c] for r in results if r[name]["components"][c]["settled"] > 0]
            if not rs_:
                cells.append("— | — | —")
                continue
            in80 = np.mean([x["in80"] for x in rs_])
            in90 = np.mean([x["in90"] for x in rs_])
            err = np.mean([(x["mean"] - x["settled"]) / x["settled"] for x in rs_])
            cells.append(f"{100 * in80:.0f}% | {100 * in90:.0f}% | {100 * err:+.1f}%")
        crows.append(f"| {c} | " + " | ".join(cells) + " |")
    chead = ("\n\nPer component (worlds where the component paid something):\n\n| component | "
             + " | ".join(f"{v}: 80% covers | 90% covers | mean error" for v in VARIANTS)
             + " |\n|---" + "|---" * (3 * len(VARIANTS)) + "|")
    return head + "\n" + "\n".join(rows) + chead + "\n" + "\n".join(crows)


def diagnose(args: argparse.Namespace, prog_hist: rs.Programme, prog_2026: rs.Programme) -> None:
    """Where the volume forecast's level comes from: per segment, the known partners' 2025
    purchases (the baselines, gross), their settled 2026 revenue (net of returns) and the
    calibrated forecast's mean 2026 revenue, split by partner group (``core``: buying since
    the first half of 2024; ``entrant``: first purchase later; ``leaver``: the generator's
    ``-X`` partners, who churn at 4x the hazard), summed over the worlds; and the calibrated
    growth per segment against the generator's."""
    tot: dict = {}
    estimates = []
    for w in range(args.worlds):
        tx, partners = world_history(w, args)
        cal = calibrate_world(w, args, tx, partners, prog_hist)
        estimates.append(cal.estimates)
        known = cal.partners[~cal.partners["churned"]].copy()
        first = tx[tx["revenue"] > 0].groupby("partner_id")["date"].min()
        known["group"] = np.where(known["partner_id"].str.contains("-X"), "leaver",
                                  np.where(known["partner_id"].map(first) >= "2024-07-01", "entrant", "core"))
        known["actual"] = known["partner_id"].map(tx[tx["date"] >= "2026-01-01"].groupby("partner_id")["revenue"].sum())
        known["actual"] = known["actual"].fillna(0.0)
        growth = cal.model.to_dict()["growth"]["segments"]
        for group in ("all", "core", "entrant", "leaver"):
            part = known if group == "all" else known[known["group"] == group]
            pop = pd.DataFrame({"partner_id": part["partner_id"], "segment": part["segment"],
                                "baseline_revenue": part["last12_revenue"].round(2)})
            if not args.no_demand_level:
                pop["demand_revenue"] = part["demand_revenue"].round(2).to_numpy()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                seg = rs.simulate(prog_2026, pop, cal.model, scenarios=args.scenarios, seed=w, threads=1,
                                  progress=False, parameter_uncertainty=False).by_segment()
            for g, df in part.groupby("segment"):
                t = tot.setdefault((g, group), [0.0, 0.0, 0.0, 0.0])
                t[0] += df["last12_revenue"].sum()
                t[1] += df["actual"].sum()
                t[2] += float(seg.loc[g, "revenue_mean"])
                t[3] += growth[g] / args.worlds if group == "all" else 0.0
    print("| segment | partners | 2025 (baseline) | 2026 settled | forecast | 2026 / 2025 | forecast / settled "
          "| growth: calibrated (mean) | generator |\n|---|---|---|---|---|---|---|---|---|")
    for (g, group), (b, a, f, gr) in sorted(tot.items()):
        grs = f"{100 * gr:+.1f}% | {100 * make_data.TRUTH['growth'][g]:+.1f}%" if group == "all" else " | "
        print(f"| {g} | {group} | {b / 1e6:,.1f}M | {a / 1e6:,.1f}M | {f / 1e6:,.1f}M | {100 * (a / b - 1):+.1f}% "
              f"| {100 * (f / a - 1):+.1f}% | {grs} |")
    print(parameter_table(pd.concat(estimates)))


def parameter_table(est: pd.DataFrame) -> str:
    """The calibrated parameters against the generator's (make_data.TRUTH) over the worlds:
    mean, standard deviation across worlds, mean reported SE, share of 90% intervals covering."""
    tr = make_data.TRUTH
    truth = {"market.sigma": tr["market_sigma"], "market.rho": tr["market_rho"],
             "segment_factor.sigma": tr["segment_factor_sigma"], "partner_factor.sigma": tr["partner_factor_sigma"]}
    for g in make_data.SEGMENTS:
        truth[f"growth.segments.{g}"] = tr["growth"][g]
        truth[f"noise.segments.{g}"] = tr["noise"][g]
        truth[f"incidence.segments.{g}"] = tr["incidence"][g]
    out = ["\n| parameter | generator | calibrated: mean | SD over worlds | mean SE | 90% interval covers |",
           "|---|---|---|---|---|---|"]
    for name, t in truth.items():
        x = est[est["parameter"] == name]
        if x.empty:
            out.append(f"| {name} | {t:.4f} | not estimated | | | |")
            continue
        cov = float(((x["lo90"] <= t) & (t <= x["hi90"])).mean())
        out.append(f"| {name} | {t:.4f} | {x['value'].mean():.4f} | {x['value'].std():.4f} | {x['se'].mean():.4f} "
                   f"| {100 * cov:.0f}% |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worlds", type=int, default=200)
    ap.add_argument("--partners", type=int, default=600)
    ap.add_argument("--scenarios", type=int, default=200)
    ap.add_argument("--bootstrap", type=int, default=100)
    ap.add_argument("--draws", type=int, default=50, help="the calibration's parameter draws (0: no draws variant)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", default="calibration_out_of_sample.json")
    ap.add_argument("--anchor-last-year", action="store_true",
                    help="worlds as before session 27: each partner's realised 2026 equals its level (make_data)")
    ap.add_argument("--no-demand-level", action="store_true",
                    help="simulate every partner at its baseline (before session 28), not at its calibrated "
                         "demand_revenue")
    ap.add_argument("--spread-categories", action="store_true",
                    help="drop the calibrated categories per order (each month spread over the mix, as before)")
    ap.add_argument("--diagnose", action="store_true",
                    help="print the level of the volume forecast per segment and partner group instead")
    args = ap.parse_args()
    base = rs.Programme.from_file(rs.example_path("programme.toml"))
    d = base.to_dict()
    prog_hist = base  # in force over the history: its quarters are aligned to January
    d["start"] = "2026-01-01"
    d["name"] = d["name"].replace("2027", "2026")
    prog_2026 = rs.Programme.from_dict(d)
    if args.diagnose:
        diagnose(args, prog_hist, prog_2026)
        return
    hand = rs.Model.from_file(rs.example_path("model.toml"))
    results = []
    t0 = time.time()
    for w in range(args.worlds):
        results.append(one_world(w, args, prog_hist, prog_2026, hand))
        if (w + 1) % 10 == 0 or w + 1 == args.worlds:
            print(f"{w + 1} worlds in {time.time() - t0:.0f} s", file=sys.stderr)
            Path(args.json).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
    print(summarise(results))


if __name__ == "__main__":
    main()
