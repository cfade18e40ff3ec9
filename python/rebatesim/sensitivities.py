"""One-at-a-time sensitivity of payout, ROI and incremental margin to the demand and
behaviour assumptions, on common random numbers.

>>> import rebatesim as rs
>>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "quarter", 4,
...                      [rs.volume("vol", [(25_000, "2%"), (35_000, "4%")])], segments=["small"])
>>> pop = rs.Population.synthetic({"small": {"count": 200, "median_baseline": 100_000, "dispersion": 0.3}}, seed=1)
>>> model = {"noise": {"sigma": 0.2}, "market": {"sigma": 0.1}}
>>> s = rs.sensitivity(p, pop, model, scenarios=100, seed=7, progress=False)
>>> sorted(s.table.index)  # the rows come largest payout swing first
['Market volatility', 'Partner noise', 'Trend']
>>> s.tornado("payout").kind
'tornado'
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from . import _arrow, _checks, _core, _draws, _executor, charts
from ._display import sensitivity_html
from ._format import num
from ._inputs import as_model, as_population, as_programme
from ._run import run_options, with_progress
from .charts import Chart
from .exceptions import RequestError

__all__ = ["sensitivity", "Sensitivity", "parameters"]

_OUTPUTS = {"payout": "payout", "roi": "roi", "incremental_margin": "incremental_margin", "margin": "incremental_margin"}


def parameters() -> List[str]:
    """The model parameters a sensitivity analysis can move, e.g. ``"noise.sigma"``.

    >>> import rebatesim as rs
    >>> "behaviour.uplift.elasticity" in rs.sensitivity_parameters()
    True
    """
    return [p[0] for p in _core.sensitivity_parameters()]


_PP = re.compile(r"^([+-])\s*(\d+(?:\.\d*)?|\.\d+)\s*pp$")
_PCT = re.compile(r"^([+-])\s*(\d+(?:\.\d*)?|\.\d+)\s*%$")
_TIMES = re.compile(r"^[x×*]\s*(\d+(?:\.\d*)?|\.\d+)$")
_ADD = re.compile(r"^([+-])\s*(\d+(?:\.\d*)?|\.\d+)$")


def _change(value: Any, where: str) -> Tuple[str, float]:
    """A setting: a number (set to it), ``"off"`` (0), ``"x1.5"`` / ``"×1.5"`` (scale),
    ``"-50%"`` (scale by 0.5), ``"+5pp"`` (add 0.05), ``"+0.05"`` (add), or a
    ``("scale" | "add" | "set", value)`` pair."""
    if isinstance(value, bool):
        raise RequestError(f"{where}: expected a number, 'off', 'x1.5', '-50%', '+5pp' or ('scale', 1.5), found {value!r}")
    if isinstance(value, (int, float)):
        return "set", _checks.real(where, value)
    if isinstance(value, str):
        t = value.strip().lower().replace("−", "-")
        if t == "off":
            return "set", 0.0
        m = _TIMES.match(t)
        if m:
            return "scale", float(m.group(1))
        m = _PCT.match(t)
        if m:
            f = float(m.group(2)) / 100.0
            return "scale", 1.0 + f if m.group(1) == "+" else 1.0 - f
        m = _PP.match(t)
        if m:
            d = float(m.group(2)) / 100.0
            return "add", d if m.group(1) == "+" else -d
        m = _ADD.match(t)
        if m:
            d = float(m.group(2))
            return "add", d if m.group(1) == "+" else -d
    elif isinstance(value, Sequence) and len(value) == 2 and isinstance(value[0], str):
        kind = value[0].strip().lower()
        if kind in ("scale", "add", "set"):
            return kind, _checks.real(where, value[1])
    raise RequestError(
        f"{where}: expected a number, 'off', 'x1.5', '-50%', '+5pp', '+0.05' or ('scale' | 'add' | 'set', value), found {value!r}"
    )


def _assumption(a: Any, i: int) -> Tuple[Any, ...]:
    where = f"assumptions[{i}]"
    if isinstance(a, Mapping):
        d = dict(a)
    elif isinstance(a, Sequence) and not isinstance(a, str) and len(a) in (3, 4):
        if len(a) == 4:
            d = {"name": a[0], "parameter": a[1], "low": a[2], "high": a[3]}
        else:
            d = {"name": a[0], "low_model": a[1], "high_model": a[2]}
    else:
        raise RequestError(
            f"{where}: expected (name, parameter, low, high), (name, low_model, high_model) or a dict, found {a!r}"
        )
    unknown = set(d) - {"name", "parameter", "low", "high", "low_model", "high_model", "low_label", "high_label"}
    if unknown:
        raise RequestError(f"{where}: unknown keys {sorted(unknown)}")
    if "name" not in d or not isinstance(d["name"], str):
        raise RequestError(f"{where}: expected a name (a string)")
    name = _checks.text(f"{where} name", d["name"])
    ll, hl = (None if d.get(k) is None else _checks.text(f"{where} {k}", str(d[k])) for k in ("low_label", "high_label"))
    if "parameter" in d:
        if "low" not in d or "high" not in d:
            raise RequestError(f"{where} ('{name}'): give the low and the high setting")
        lk, lv = _change(d["low"], f"{where} ('{name}') low")
        hk, hv = _change(d["high"], f"{where} ('{name}') high")
        return (name, _checks.text(f"{where} parameter", str(d["parameter"])), lk, lv, hk, hv, None, None,
                None if ll is None else str(ll), None if hl is None else str(hl))
    if "low_model" in d and "high_model" in d:
        lo, hi = as_model(d["low_model"]), as_model(d["high_model"])
        return (name, None, None, None, None, None, lo._core, hi._core,
                None if ll is None else str(ll), None if hl is None else str(hl))
    raise RequestError(f"{where} ('{name}'): give a parameter with low and high, or low_model and high_model")


def _data(core: "_core.SensitivityResult") -> Dict[str, Any]:
    """The analysis from the core's Arrow tables: {programme, currency, seed, scenarios,
    base: {output: summary}, rows: [{assumption, parameter, low_label, high_label,
    base_value, low_value, high_value, low, high, low_vs_base, high_vs_base, swing}]}, each
    run or difference {output: summary} (see ``_arrow.summaries``)."""
    data = _arrow.row(core.meta())
    groups = _arrow.summaries(core.base())
    data["base"] = groups[0][1] if groups else {}
    runs: Dict[Tuple[str, ...], Dict[str, Any]] = {}
    for key, summaries in _arrow.summaries(core.summaries(), ("assumption", "run")):
        runs.setdefault(key[:1], {})[key[1]] = summaries
    data["rows"] = [{**r, **runs.get((r["assumption"],), {})} for r in _arrow.table(core.assumptions()).to_pylist()]
    return data


class Sensitivity:
    """Results of :func:`sensitivity`.

    ``table``: one row per assumption (index: its name), largest payout swing first, with
    the parameter and its base/low/high values, and for each output (``payout``, ``roi``,
    ``incremental_margin``) the mean at the low and high setting, the paired differences
    from the base (``*_low_diff``, ``*_high_diff``) and the swing high − low
    (``*_swing``), each with its standard error (``*_se``).
    ``base``: the base run's mean payout, ROI and incremental margin (with ``*_se``).
    ``parameter_draws``: the number ``K`` of parameter draws every run was made under
    (input uncertainty; 0: the model alone).
    """

    def __init__(self, data: Dict[str, Any]) -> None:
        import pandas as pd

        self._data = data
        self._decimals = 2  # the currency's minor unit, for sensitivity.csv (set by sensitivity())
        self.programme: str = data["programme"]
        self.currency: str = data["currency"]
        self.seed: int = int(data["seed"])
        self.scenarios: int = int(data["scenarios"])
        self.parameter_draws: int = int(data.get("parameter_draws") or 0)
        self.base: Dict[str, float] = {}
        for out in ("payout", "roi", "incremental_margin"):
            self.base[out] = num(data["base"][out]["mean"]["value"])
            self.base[out + "_se"] = num(data["base"][out]["mean"]["se"])
        rows = []
        for r in data["rows"]:
            row: Dict[str, Any] = {
                "assumption": r["assumption"],
                "parameter": r["parameter"],
                "low_label": r["low_label"],
                "high_label": r["high_label"],
                "base_value": num(r["base_value"]),
                "low_value": num(r["low_value"]),
                "high_value": num(r["high_value"]),
            }
            for out in ("payout", "roi", "incremental_margin"):
                row[f"{out}_low"] = num(r["low"][out]["mean"]["value"])
                row[f"{out}_high"] = num(r["high"][out]["mean"]["value"])
                for key, src in (("low_diff", "low_vs_base"), ("high_diff", "high_vs_base"), ("swing", "swing")):
                    row[f"{out}_{key}"] = num(r[src][out]["mean"]["value"])
                    row[f"{out}_{key}_se"] = num(r[src][out]["mean"]["se"])
            row["payout_p95_low"] = num(r["low"]["payout"]["p95"]["value"])
            row["payout_p95_high"] = num(r["high"]["payout"]["p95"]["value"])
            rows.append(row)
        self.table = pd.DataFrame(rows).set_index("assumption") if rows else pd.DataFrame()

    def tornado(self, output: str = "payout", *, title: Optional[str] = None, size: Tuple[int, int] = (960, 540)) -> Chart:
        """The tornado chart of ``output`` (``"payout"``, ``"roi"`` or
        ``"incremental_margin"``): each assumption's low and high mean around the base
        mean, largest swing on top, whiskers ±1.96 paired standard errors."""
        key = _OUTPUTS.get(str(output))
        if key is None:
            raise RequestError(f"unknown sensitivity output '{output}': expected payout, roi or incremental_margin")
        base = self.base[key]
        if not math.isfinite(base):
            raise RequestError(
                f"the sensitivity of {key} cannot be charted: it is undefined in the base run "
                "(ROI and incremental margin need a margin rate in the partner table or the model's economics.margin_rate)"
            )
        bars = []
        for name, r in self.table.iterrows():
            bars.append({
                "assumption": name,
                "low_label": r["low_label"],
                "high_label": r["high_label"],
                "low": base + r[f"{key}_low_diff"],
                "high": base + r[f"{key}_high_diff"],
                "low_se": r[f"{key}_low_diff_se"],
                "high_se": r[f"{key}_high_diff_se"],
            })
        label = {"payout": "expected payout", "roi": "expected ROI", "incremental_margin": "expected incremental margin"}[key]
        unit = "percent" if key == "roi" else "money"
        return charts.tornado(
            bars, base=base, output=label[0].upper() + label[1:], unit=unit, currency=self.currency,
            title=title or f"Sensitivity of {label}: {self.programme}{self._under()}", size=size,
        )

    def _under(self) -> str:
        """`` (under K parameter draws)`` for a run under parameter draws, else nothing."""
        return f" (under {self.parameter_draws} parameter draws)" if self.parameter_draws else ""

    def _repr_html_(self) -> str:
        return sensitivity_html(self)

    def __repr__(self) -> str:
        return f"<Sensitivity of {self.programme!r}: {len(self.table)} assumptions, {self.scenarios:,} scenarios per run>"


def sensitivity(
    programme: Any,
    population: Any,
    model: Any = None,
    *,
    scenarios: int = 1000,
    seed: int = 0,
    threads: Optional[int] = None,
    assumptions: Optional[Sequence[Any]] = None,
    chunk_size: Optional[int] = None,
    precision: Any = None,
    max_scenarios: Optional[int] = None,
    memory_limit: Optional[int] = None,
    progress: Any = True,
    executor: Any = None,
    parameter_uncertainty: Any = None,
) -> Sensitivity:
    """One-at-a-time sensitivity analysis: the base run, then for each assumption a low
    and a high run moving it alone, every run on the same seed and scenarios (common
    random numbers), so each effect is a paired difference with a small standard error.

    ``assumptions``: None (every mechanism the model switches on, see
    ``docs/simulation.md``), or a list of ``(name, parameter, low, high)`` — parameter a
    path such as ``"noise.sigma"`` (see :func:`rebatesim.sensitivity_parameters`), low
    and high a number (set), ``"off"``, ``"x1.5"``, ``"-50%"``, ``"+5pp"`` or
    ``("scale" | "add" | "set", value)`` — or ``(name, low_model, high_model)``, or dicts
    with those keys and optional ``low_label`` / ``high_label``.

    ``parameter_uncertainty`` (input uncertainty) as in :func:`~rebatesim.simulate`: by
    default a :class:`~rebatesim.Calibration`'s parameter draws (or the ``draws/`` folder
    beside a model file); ``False`` none; a list of models or a folder of ``draw_*.toml``
    files, those. Every run is then made under the draws, scenario ``s`` of every run under
    the same draw (common random numbers extend to the draws), and each assumption's change
    is applied on top of every draw: a scale multiplies each draw's value, an addition adds
    to it (the draws keep their spread around the moved value), a set gives every draw that
    value. An assumption given as two complete models is refused under draws.
    :attr:`Sensitivity.parameter_draws` records ``K`` and the tornado's title says it.

    >>> import rebatesim as rs
    >>> p = rs.Programme.new("Demo", "EUR", "2027-01-01", "year", 1,
    ...                      [rs.volume("vol", [(110_000, "2%")])], segments=["s"])
    >>> pop = rs.Population.synthetic({"s": {"count": 100, "median_baseline": 100_000, "dispersion": 0.2}})
    >>> s = rs.sensitivity(p, pop, {"noise": {"sigma": 0.2}}, scenarios=100, progress=False,
    ...                    assumptions=[("Noise", "noise.sigma", "-50%", "x2")])
    >>> bool(s.table.loc["Noise", "payout_swing"] > 0)
    True
    """
    prog = as_programme(programme)
    pop = as_population(population)
    given, draws = _draws.resolve(model, parameter_uncertainty)
    mod = as_model(given)
    specs = None
    if assumptions is not None:
        if isinstance(assumptions, (str, Mapping)) or not isinstance(assumptions, Sequence):
            raise RequestError(f"assumptions: expected a list, found {type(assumptions).__name__}")
        specs = [_assumption(a, i) for i, a in enumerate(assumptions)]
    kw = run_options(scenarios, seed, threads, chunk_size, precision, max_scenarios, memory_limit)
    ex = _executor.check(executor)
    if ex is not None:
        core = with_progress(progress, f"{prog.name} sensitivity", lambda callback: _executor.sensitivity(
            ex, prog, pop, mod, specs, kw, callback, draws))
    else:
        core = with_progress(progress, f"{prog.name} sensitivity", lambda callback: _core.sensitivity(
            prog._spec, pop._core, mod._core, specs, kw, progress=callback, draws=[d._core for d in draws] or None))
    out = Sensitivity(_data(core))
    out._decimals = prog.decimals
    return out
