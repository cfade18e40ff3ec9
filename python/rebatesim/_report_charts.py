"""The charts of a simulation report: the payout distribution, tier attainment (per segment,
with each ladder's thresholds in the legend) and the fan of the liability and the cash paid
to date (:func:`simulation_charts`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import numpy as np

from ._format import finite, num
from .charts import Chart

if TYPE_CHECKING:  # pragma: no cover
    from .comparison import Comparison
    from .simulation import SimulationResult


def short_amount(text: str) -> str:
    """A threshold as a legend shows it: 25000 → 25k, 1500000 → 1.5M, 5% stays."""
    try:
        x = float(text.rstrip("%"))
    except ValueError:
        return text
    if text.endswith("%"):
        return text
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:,.3g}{unit}"
    return f"{x:,.0f}"


def attainment_labels(r: "SimulationResult", by_seg: Any) -> Tuple[Dict[str, str], Dict[Tuple[str, str], str]]:
    """For the per-segment tier attainment: each ladder's component label and, per (ladder,
    segment), the chart's series label: the segment (with the component when several
    ladders serve it) and the ladder's thresholds (``installer volume: 25k / 50k / 100k``)."""
    names: Dict[str, str] = {}
    if r.programme is not None:
        for c in r.programme.describe().get("components", []):
            names[str(c.get("id"))] = str(c.get("name") or c.get("id"))
    ladders_of: Dict[str, List[str]] = {}
    for comp, seg in by_seg[["component", "segment"]].drop_duplicates().itertuples(index=False):
        ladders_of.setdefault(str(seg), []).append(str(comp))
    legend: Dict[Tuple[str, str], str] = {}
    for comp, seg in by_seg[["component", "segment"]].drop_duplicates().itertuples(index=False):
        rows = by_seg[(by_seg.component == comp) & (by_seg.segment == seg) & (by_seg.tier > 0)]
        thresholds = " / ".join(short_amount(str(x).lstrip("≥ ")) for x in rows.threshold)
        who = str(seg) if len(ladders_of[str(seg)]) == 1 else f"{seg}, {comp}"
        legend[(str(comp), str(seg))] = f"{who}: {thresholds}" if thresholds else who
    return names, legend



def months_of(r: "SimulationResult", n: int) -> List[str]:
    labels = r._month_labels(n)
    return labels if r.programme is not None else [f"{2000 + i // 12:04d}-{i % 12 + 1:02d}" for i in range(n)]


def simulation_charts(r: "SimulationResult", *, name: Optional[str] = None) -> Dict[str, Chart]:
    """The charts of one simulation: ``payout_distribution``, ``tier_attainment``
    (when the programme has ladders) and ``accrual_cash`` (the fan of the accrued
    liability and the cash paid to date)."""
    from . import charts

    title_name = name or r.meta["programme"]
    sub = f"{title_name}: {r.n_scenarios:,} scenarios, seed {r.seed}"
    dist_sub = sub
    if r.budget is not None:
        p, _ = r.budget_binding
        if finite(p) and p > 0:
            # the payouts are after the budget: a binding budget shows as a pile at the budget line
            dist_sub += f" · the budget binds in {p:.0%} of scenarios (payout held at the budget)"
    out: Dict[str, Chart] = {
        "payout_distribution": charts.payout_distribution(
            r.payout, currency=r.currency, budget=r.budget, title="Payout distribution", subtitle=dist_sub),
    }
    by_seg = r.tiers_by_segment()
    t = r.tiers
    if not by_seg.empty:
        _, legend = attainment_labels(r, by_seg)
        width = int(by_seg.tier.max())
        cols = ["Below tier 1"] + [f"Tier {k}" for k in range(1, width + 1)]
        import pandas as pd

        g = pd.DataFrame(np.nan, index=list(dict.fromkeys(legend.values())), columns=cols)
        for _, row in by_seg.iterrows():
            g.loc[legend[(row.component, row.segment)], cols[int(row.tier)]] = row.partners
        out["tier_attainment"] = charts.tier_attainment(
            g, title="Partners by highest tier reached, per segment",
            subtitle=f"{title_name}: expected partners per tier; each ladder's tier thresholds in the legend")
    elif not t.empty:
        t = t[t.tier > 0]
        # segments in the result's segment order (a segment keeps its colour), then other ladders
        found = list(dict.fromkeys(t.label))
        segs = [str(x) for x in r.meta["segments"]]
        labels = [x for x in segs if x in found] + [x for x in found if x not in segs]
        width = int(t.tier.max())
        cols = [f"Tier {k}" for k in range(1, width + 1)]

        def grid(col: str) -> Any:
            import pandas as pd

            g = pd.DataFrame(np.nan, index=labels, columns=cols)  # NaN: the ladder has no such tier
            for _, row in t.iterrows():
                cell = g.loc[row.label, f"Tier {row.tier}"]
                g.loc[row.label, f"Tier {row.tier}"] = row[col] if cell != cell else cell + row[col]
            return g

        out["tier_attainment"] = charts.tier_attainment(
            grid("mean_partners"), low=grid("p5"), high=grid("p95"), interval_label="P5–P95 over scenarios",
            title="Partners by highest tier reached",
            subtitle=f"{title_name}: expected partners per tier and ladder, whiskers P5–P95 over scenarios")
    c = r.cash_schedule()
    n = len(c)
    months = months_of(r, n)

    def pad(df: Any) -> Any:
        import pandas as pd

        cols = ["p10", "p25", "p50", "p75", "p90"]
        v = df[cols].to_numpy()
        if len(v) < n:  # after the last programme month nothing more accrues
            v = np.vstack([v, np.repeat(v[-1:], n - len(v), axis=0)])
        return pd.DataFrame(v, columns=cols)

    out["accrual_cash"] = charts.accrual_fan(
        months, {"Liability (accrued − paid)": pad(open_liability(r, n)), "Cash paid": pad(c)}, currency=r.currency,
        budget=r.budget, title="Rebate liability and cash paid to date",
        subtitle=f"{title_name}: median, P25–P75 and P10–P90 by month end; the liability falls when a period is paid")
    return out



def open_liability(r: "SimulationResult", months: int) -> Any:
    """The refund liability at each month end per scenario (accrued to date − paid to date),
    as bands over scenarios (p10..p90): it rises as partners buy and falls when cash is paid."""
    import pandas as pd

    from . import _core

    acc = np.asarray(r._mat["accrual"], dtype=np.float64)
    cash = np.asarray(r._mat["cash"], dtype=np.float64)
    width = max(months, acc.shape[1], cash.shape[1])
    diff = np.zeros((acc.shape[0], width))
    diff[:, :acc.shape[1]] += acc
    diff[:, :cash.shape[1]] -= cash
    b = _core.cumulative_bands(np.ascontiguousarray(diff))
    return pd.DataFrame({k: b[k] for k in ("p10", "p25", "p50", "p75", "p90")})


def risk_return_chart(c: "Comparison", budget: Optional[float], has_budget: bool) -> Optional[Tuple[Chart, str]]:
    """A comparison's expected return (ROI, else the incremental margin) against its payout risk
    (the P95 of the payout before the budget cut: after it, designs the budget holds sit on one
    point), with its caption; None when a design has no finite return."""
    from . import charts

    names = c.names
    summ = c.summary
    cur = c.results[names[0]].currency
    risk = "payout_before_budget_p95" if has_budget else "payout_p95"
    risk_text = "the P95 of the total payout before the budget cut" if has_budget else "the P95 of the total payout"
    pts = {nm: (num(summ.loc[nm, risk]), num(summ.loc[nm, "roi_mean"])) for nm in names}
    if all(finite(v[1]) for v in pts.values()):
        return (charts.risk_return(pts, currency=cur, measure="roi", budget=budget,
                                   title="Expected return against payout risk",
                                   subtitle=f"Expected ROI against {risk_text}", before_budget=has_budget),
                "Up and to the left is better: more return for less payout risk."
                + (" Right of the budget line the budget cuts the payout in the worst scenarios." if has_budget else ""))
    pts = {nm: (num(summ.loc[nm, risk]), num(summ.loc[nm, "incremental_margin_mean"])) for nm in names}
    if all(finite(v[1]) for v in pts.values()):
        return (charts.risk_return(pts, currency=cur, measure="margin", budget=budget,
                                   subtitle=f"Expected incremental margin against {risk_text}",
                                   before_budget=has_budget),
                f"Expected incremental margin against {risk_text}.")
    return None
