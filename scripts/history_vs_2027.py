#!/usr/bin/env python3
"""The bundled example's history against its 2027, on what the cross-sell bundle pays on
(docs/calibration.md, "Session 29"): per year, the orders a buying month by partners' revenue
fifths, and the installer and retail partner-quarters whose net revenue meets all three bundle
minimums, as bought and with each quarter spread by the partner's mix of the year (no order
lumpiness), and the share of those partners buying under 2% smart-home.

    python3 scripts/history_vs_2027.py [EXAMPLE_DIR]   (default examples/distributor)

Standard library only; reads history.csv.gz, history_partners.csv, partners.csv and
transactions.csv.
"""

import collections
import csv
import gzip
import os
import sys

MINIMUMS = {"cable": 6000.0, "lighting": 4000.0, "smart_home": 2500.0}  # programme.toml, cross_sell
CATEGORIES = ("cable", "lighting", "smart_home", "tools", "accessories")


def rows(path, year):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for r in csv.DictReader(f):
            if r["date"].startswith(str(year)):
                yield r


def orders_by_fifth(path, year):
    """Mean distinct orders a buying month (and buying months a partner) per revenue fifth."""
    revenue = collections.Counter()
    orders = collections.defaultdict(set)
    for r in rows(path, year):
        v = float(r["revenue"])
        if v > 0:
            revenue[r["partner_id"]] += v
            orders[(r["partner_id"], r["date"][5:7])].add(r["order_id"])
    months = collections.defaultdict(list)
    for (p, _), s in orders.items():
        months[p].append(len(s))
    ranked = sorted(revenue, key=lambda p: revenue[p])
    k = len(ranked)
    out = []
    for f in range(5):
        group = ranked[f * k // 5:(f + 1) * k // 5]
        n = sum(sum(months[p]) for p in group)
        m = sum(len(months[p]) for p in group)
        out.append(f"{n / m:.2f} ({m / len(group):.1f} months)")
    return " / ".join(out)


def bundle_quarters(path, year, segment_of):
    """(share meeting all minimums, the same spread by the year's mix, share under 2% smart-home)."""
    cat_q = collections.Counter()
    total_q = collections.Counter()
    cat_year = collections.Counter()
    for r in rows(path, year):
        p = r["partner_id"]
        if segment_of.get(p) not in ("installer", "retail"):
            continue
        v = float(r["revenue"])
        q = (int(r["date"][5:7]) - 1) // 3
        cat_q[(p, q, r["category"])] += v
        total_q[(p, q)] += v
        cat_year[(p, r["category"])] += v
    partners = {p for p, _ in total_q}
    year_total = {p: sum(cat_year[(p, c)] for c in CATEGORIES) for p in partners}
    share = {(p, c): cat_year[(p, c)] / year_total[p] if year_total[p] > 0 else 0.0
             for p in partners for c in MINIMUMS}
    n = 4 * len(partners)
    met = sum(1 for p in partners for q in range(4) if all(cat_q[(p, q, c)] >= m for c, m in MINIMUMS.items()))
    spread = sum(1 for p in partners for q in range(4)
                 if all(total_q[(p, q)] * share[(p, c)] >= m for c, m in MINIMUMS.items()))
    low = sum(1 for p in partners if share[(p, "smart_home")] < 0.02)
    return met / n, spread / n, low / len(partners)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "examples", "distributor")
    segment_of = {}
    for name in ("partners.csv", "history_partners.csv"):
        with open(os.path.join(d, name)) as f:
            segment_of.update({r["partner_id"]: r["segment"] for r in csv.DictReader(f)})
    for path, year in [(os.path.join(d, "history.csv.gz"), y) for y in (2024, 2025, 2026)] + \
                      [(os.path.join(d, "transactions.csv"), 2027)]:
        met, spread, low = bundle_quarters(path, year, segment_of)
        print(f"{year}: orders a buying month by revenue fifth {orders_by_fifth(path, year)}")
        print(f"      bundle minimums met in {100 * met:.1f}% of installer/retail partner-quarters "
              f"({100 * spread:.1f}% spread by the year's mix); under 2% smart-home: {100 * low:.0f}% of partners")


if __name__ == "__main__":
    main()
