#!/usr/bin/env python3
"""Generate the bundled distributor data set: partners.csv and transactions.csv.

A fictitious electrical-wholesale distributor with three partner segments
(installers, retail stores, online shops) buying five product categories over
the programme year 2027 (the programme in programme.toml). The data is
deterministic (random.Random with a fixed seed) and uses only the Python
standard library, so it regenerates byte for byte anywhere:

    python3 examples/distributor/make_data.py

What it contains, so that every component of the programme has something to do:
- partners.csv: partner_id, segment, baseline_revenue, baseline_units (prior-year
  annual volumes; lognormal, scaled so that partners spread over every tier of each
  segment's ladder; about 4% are new partners without a baseline).
- transactions.csv: partner_id, date, quantity, revenue, category, order_id. One line
  per order line; monthly seasonality (a construction-season shape, a Q4 peak for
  online shops); this year's volume = baseline x a growth factor (some partners
  grow more than 30%, some shrink); a category mix per partner (some buy no
  smart_home at all, so they miss the bundle); some full-pallet orders (>= 400
  units, the programme's pallet size: some are pallet orders of one category, a
  few large mixed orders reach it too); returns as negative lines with their own RMA number, dated after the
  sale; and about 1.3% of partners lost to a competitor in the autumn, who stop
  ordering after September and send back stock (their year-to-date volume falls, so
  cumulative rebates claw back).
"""

import csv
import datetime as dt
import math
import os
import random

SEED = 20270101
YEAR = 2027
HERE = os.path.dirname(os.path.abspath(__file__))

# List price per packaging unit (EUR): a 500 m cable drum, a box of light fittings, a
# smart-home device, a power tool, a carton of installation accessories.
PRICE = {"cable": 420.0, "lighting": 95.0, "smart_home": 140.0, "tools": 260.0, "accessories": 48.0}
CATEGORIES = list(PRICE)

SEGMENTS = {
    # count, median prior-year revenue, lognormal sigma, revenue mix, average order value
    "installer": (1750, 105_000.0, 0.95, {"cable": 0.34, "lighting": 0.22, "smart_home": 0.10, "tools": 0.14, "accessories": 0.20}, 16_500.0),
    "retail": (850, 165_000.0, 0.90, {"cable": 0.10, "lighting": 0.35, "smart_home": 0.25, "tools": 0.15, "accessories": 0.15}, 24_000.0),
    "online": (400, 215_000.0, 1.05, {"cable": 0.05, "lighting": 0.30, "smart_home": 0.40, "tools": 0.10, "accessories": 0.15}, 20_000.0),
}
PREFIX = {"installer": "INS", "retail": "RET", "online": "ONL"}

# Monthly seasonality (relative), January first.
SEASON = {
    "installer": [0.72, 0.80, 0.98, 1.06, 1.10, 1.06, 0.96, 0.80, 1.10, 1.14, 1.06, 0.90],
    "retail": [0.80, 0.82, 0.96, 1.02, 1.04, 1.00, 0.94, 0.90, 1.02, 1.08, 1.16, 1.26],
    "online": [0.85, 0.80, 0.90, 0.92, 0.94, 0.90, 0.88, 0.92, 1.00, 1.10, 1.38, 1.50],
}

PALLET_MIN = 400  # units; the programme's logistics component uses the same number


def days_in_month(m):
    nxt = dt.date(YEAR + (m == 12), m % 12 + 1, 1)
    return (nxt - dt.date(YEAR, m, 1)).days


def money(x):
    return f"{x:.2f}"


def mix_for(rng, base_mix):
    """A partner's revenue share per category: the segment's mix with noise; about one
    partner in four does not buy one of the categories at all."""
    w = {c: base_mix[c] * rng.lognormvariate(0.0, 0.45) for c in CATEGORIES}
    if rng.random() < 0.25:
        w[rng.choice(["smart_home", "lighting", "cable", "tools"])] = 0.0
    s = sum(w.values())
    return {c: v / s for c, v in w.items()}


def main():
    rng = random.Random(SEED)
    partners = []
    for segment, (count, median, sigma, base_mix, aov) in SEGMENTS.items():
        for i in range(1, count + 1):
            pid = f"{PREFIX[segment]}-{i:04d}"
            mix = mix_for(rng, base_mix)
            base_rev = min(max(median * rng.lognormvariate(0.0, sigma), 8_000.0), 12_000_000.0)
            avg_price = sum(mix[c] * PRICE[c] for c in CATEGORIES)  # revenue-weighted price
            # units per revenue: sum(share / price)
            units_per_eur = sum(mix[c] / PRICE[c] for c in CATEGORIES)
            r = rng.random()
            if r < 0.04:  # new partner: no prior year
                baseline = None
                this_year = min(max(median * 0.6 * rng.lognormvariate(0.0, sigma), 5_000.0), 3_000_000.0)
            else:
                baseline = round(base_rev, 2)
                if r < 0.07:  # partner losing ground
                    growth = rng.uniform(0.35, 0.8)
                else:
                    growth = math.exp(rng.gauss(0.035, 0.17))
                this_year = base_rev * growth
            base_units = None if baseline is None else round(baseline * units_per_eur * rng.uniform(0.93, 1.07))
            partners.append(
                dict(
                    partner_id=pid,
                    segment=segment,
                    baseline_revenue=baseline,
                    baseline_units=base_units,
                    this_year=this_year,
                    mix=mix,
                    aov=aov * rng.lognormvariate(0.0, 0.35),
                    # a partner lost to a competitor: stops ordering after September and sends
                    # back part of its stock in the autumn (year-to-date volume falls: claw-back)
                    churn=baseline is not None and rng.random() < (0.02 if segment == "retail" else 0.01),
                    avg_price=avg_price,
                )
            )

    lines = []
    order_no = 0
    rma_no = 0
    for p in partners:
        season = SEASON[p["segment"]]
        total_season = sum(season)
        cats = [c for c in CATEGORIES if p["mix"][c] > 0]
        weights = [p["mix"][c] for c in cats]
        backlog = 0.0  # demand not yet ordered (small partners order every few months)
        first_line = len(lines)
        for m in range(1, 10 if p["churn"] else 13):
            backlog += p["this_year"] * season[m - 1] / total_season * rng.lognormvariate(0.0, 0.22)
            n_orders = min(14, int(backlog / p["aov"] + rng.random()))
            if m == (9 if p["churn"] else 12):
                n_orders = max(n_orders, 1)
            if n_orders == 0:
                continue
            remaining, backlog = backlog, 0.0
            for k in range(n_orders):
                order_no += 1
                order_id = f"SO-{order_no:06d}"
                day = rng.randint(1, days_in_month(m))
                date = dt.date(YEAR, m, day)
                order_value = remaining / (n_orders - k) * rng.uniform(0.7, 1.3) if k < n_orders - 1 else remaining
                order_value = max(order_value, 50.0)
                remaining = max(remaining - order_value, 0.0)
                pallet = rng.random() < (0.035 if p["segment"] != "retail" else 0.02) and order_value > 8_000
                if pallet:
                    # a full pallet of one category (cartons of accessories, boxes of lighting, drums of cable)
                    cat = rng.choices(["accessories", "lighting", "cable"], weights=[0.55, 0.35, 0.10])[0]
                    qty = rng.randint(PALLET_MIN, PALLET_MIN * 2)
                    price = PRICE[cat] * rng.uniform(0.88, 0.97)  # pallet price
                    order_lines = [(cat, qty, qty * price)]
                else:
                    n_lines = min(len(cats), rng.choices([1, 2, 3, 4], weights=[0.5, 0.3, 0.15, 0.05])[0])
                    chosen = []
                    while len(chosen) < n_lines:
                        c = rng.choices(cats, weights=weights)[0]
                        if c not in chosen:
                            chosen.append(c)
                    shares = [p["mix"][c] * rng.uniform(0.6, 1.4) for c in chosen]
                    s = sum(shares)
                    order_lines = []
                    for c, sh in zip(chosen, shares):
                        price = PRICE[c] * rng.uniform(0.9, 1.1)
                        qty = max(1, round(order_value * sh / s / price))
                        order_lines.append((c, qty, qty * price))
                for cat, qty, rev in order_lines:
                    rev = round(rev, 2)
                    lines.append((p["partner_id"], date, qty, rev, cat, order_id))
                    if rng.random() < 0.025:
                        # a return: part of the line comes back 5 to 40 days later
                        back = max(1, round(qty * rng.choice([0.1, 0.25, 0.5, 1.0])))
                        rdate = date + dt.timedelta(days=rng.randint(5, 40))
                        if rdate.year == YEAR:
                            rma_no += 1
                            lines.append(
                                (p["partner_id"], rdate, -back, -round(rev * back / qty, 2), cat, f"RMA-{rma_no:05d}")
                            )

        if p["churn"]:
            bought = [l for l in lines[first_line:] if l[2] > 0]
            ytd = sum(l[3] for l in bought)
            target = ytd * rng.uniform(0.12, 0.22)
            rng.shuffle(bought)
            for pid, date, qty, rev, cat, oid in bought:
                if target <= 0:
                    break
                rma_no += 1
                rdate = dt.date(YEAR, 10, 1) + dt.timedelta(days=rng.randint(4, 55))
                lines.append((pid, rdate, -qty, -rev, cat, f"RMA-{rma_no:05d}"))
                target -= rev

    lines.sort(key=lambda r: (r[1], r[5], r[0], r[4]))

    with open(os.path.join(HERE, "partners.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["partner_id", "segment", "baseline_revenue", "baseline_units"])
        for p in partners:
            w.writerow(
                [
                    p["partner_id"],
                    p["segment"],
                    "" if p["baseline_revenue"] is None else money(p["baseline_revenue"]),
                    "" if p["baseline_units"] is None else p["baseline_units"],
                ]
            )
    with open(os.path.join(HERE, "transactions.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["partner_id", "date", "quantity", "revenue", "category", "order_id"])
        for pid, date, qty, rev, cat, oid in lines:
            w.writerow([pid, date.isoformat(), qty, money(rev), cat, oid])

    qty_by_order = {}
    for l in lines:
        if l[2] > 0:
            qty_by_order[l[5]] = qty_by_order.get(l[5], 0) + l[2]
    big = sum(1 for q in qty_by_order.values() if q >= PALLET_MIN)
    print(f"{len(qty_by_order)} orders, {big} of at least {PALLET_MIN} units")
    returns = sum(1 for l in lines if l[2] < 0)
    revenue = sum(l[3] for l in lines)
    print(f"{len(partners)} partners, {len(lines)} transaction lines ({returns} returns), revenue {revenue:,.2f} EUR")


if __name__ == "__main__":
    main()
