"""Tier attainment from a simulation's per-partner results: each ladder's scope, thresholds
and label as the programme writes them, and the expected partners per tier and segment
(:meth:`SimulationResult.tiers_by_segment <rebatesim.SimulationResult.tiers_by_segment>`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from .programme import Programme

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def _components(programme: Optional[Programme]) -> Dict[str, Any]:
    if programme is None:
        return {}
    return {c.get("id"): c for c in programme.describe().get("components", [])}


def ladder_info(programme: Optional[Programme], ladders: Sequence[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """Per ladder: its component's segments and partners in scope (empty: all) and the
    thresholds of its tiers as the programme writes them (growth in percent)."""
    comps = _components(programme)
    out = []
    for ladder in ladders:
        c = comps.get(ladder["component"]) or {}
        growth = c.get("kind") == "growth"
        thresholds = [str(t.get("from")) + ("%" if growth else "") for t in c.get("tiers") or []]
        out.append({"segments": list(c.get("segments") or []), "partners": list(c.get("partners") or []),
                    "thresholds": thresholds, "basis": str(c.get("basis") or ("growth" if growth else ""))})
    return out


def ladder_labels(programme: Optional[Programme], ladders: Sequence[Mapping[str, Any]]) -> List[str]:
    """A label per ladder: its segment when the component applies to one segment,
    else the component's name."""
    comps = _components(programme)
    out = []
    for ladder in ladders:
        c = comps.get(ladder["component"]) or {}
        segs = (c.get("scope") or {}).get("segments") if isinstance(c.get("scope"), Mapping) else c.get("segments")
        if segs and len(segs) == 1:
            out.append(str(segs[0]))
        else:
            out.append(str(c.get("name") or ladder["component"]))
    return out


def attainment_by_segment(meta: Mapping[str, Any], info: Sequence[Mapping[str, Any]], partner_ids: Sequence[str],
                          partner_segments: Optional[Sequence[str]], probs: np.ndarray) -> "pd.DataFrame":
    """The rows of :meth:`SimulationResult.tiers_by_segment` from the partners' probabilities of
    reaching each tier (``probs``: partners × tiers of every ladder, in ``meta["ladders"]``
    order) and each ladder's :func:`ladder_info`."""
    import pandas as pd

    cols = ["component", "segment", "tier", "threshold", "partners", "share"]
    if partner_segments is None:
        return pd.DataFrame(columns=cols)
    seg_of = np.asarray(partner_segments, dtype=object)
    ids = np.asarray(partner_ids, dtype=object)
    rows = []
    off = 0
    for ladder, scope in zip(meta["ladders"], info):
        k = int(ladder["tiers"])
        in_scope = np.ones(len(ids), dtype=bool)
        if scope["segments"]:
            in_scope &= np.isin(seg_of, scope["segments"])
        if scope["partners"]:
            in_scope &= np.isin(ids, scope["partners"])
        # P(highest tier = t) = P(tier ≥ t) − P(tier ≥ t + 1); tier 0 is 1 − P(tier ≥ 1)
        reach = np.ones((len(ids), k + 2))
        reach[:, 1:k + 1] = probs[:, off:off + k]
        reach[:, k + 1] = 0.0
        exact = reach[:, :k + 1] - reach[:, 1:]
        thresholds = scope["thresholds"] if len(scope["thresholds"]) == k else [""] * k
        for seg in [x for x in meta["segments"] if (seg_of[in_scope] == x).any()]:
            mask = in_scope & (seg_of == seg)
            total = int(mask.sum())
            counts = exact[mask].sum(axis=0)
            for t in range(k + 1):
                thr = f"< {thresholds[0]}" if t == 0 and thresholds[0] else (f"≥ {thresholds[t - 1]}" if t else "")
                rows.append({"component": ladder["component"], "segment": seg, "tier": t, "threshold": thr,
                             "partners": float(counts[t]), "share": float(counts[t]) / total})
        off += k
    return pd.DataFrame(rows, columns=cols)
