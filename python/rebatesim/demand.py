"""What a simulation runs on besides the programme: the demand :class:`Model` and the
partner :class:`Population` (the Python side of the core's ``demand`` and ``population``).

>>> import rebatesim as rs
>>> model = rs.Model.from_dict({"noise": {"sigma": 0.2}})
>>> model.to_dict()["noise"]["sigma"]
0.2
>>> len(rs.Population.synthetic({"small": {"count": 3, "median_baseline": 50_000}}))
3
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Union

from . import _checks, _core
from ._tables import as_frame, frame_csv, is_frame
from ._values import to_json_text
from .exceptions import ModelError, RequestError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["Model", "Population"]

PathLike = Union[str, "os.PathLike[str]"]


def _file(file: Any) -> Optional[str]:
    """The ``file=`` name of ``from_toml``/``from_json``/``from_yaml`` (for messages)."""
    return None if file is None else _checks.text("file", file)


class Model:
    """A demand model: seasonality, growth, market and segment factors, partner factor,
    noise, churn, returns, orders, economics and behavioural response (each section
    optional; the all-default model is deterministic demand at the baseline).

    >>> import rebatesim as rs
    >>> m = rs.Model.from_toml('[noise]\\nsigma = 0.25\\n')
    >>> rs.Model.from_toml(m.to_toml()) == m
    True
    """

    __slots__ = ("_core",)

    def __init__(self, core: "_core.DemandModel") -> None:
        if not isinstance(core, _core.DemandModel):
            raise TypeError("use Model.from_file, from_dict, from_toml, from_json, from_yaml or default")
        self._core = core

    @classmethod
    def default(cls) -> "Model":
        """The all-default model (no noise: demand equals the baseline)."""
        return cls(_core.DemandModel.default())

    @classmethod
    def from_file(cls, path: PathLike) -> "Model":
        """Read a model file (``.toml``, ``.json``, ``.yaml``); raises
        :class:`~rebatesim.ModelError` naming the field and line."""
        return cls(_core.DemandModel.from_file(_checks.path("model", path)))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Model":
        """Build a model from a dict with the file format's keys."""
        if not isinstance(d, Mapping):
            raise ModelError(f"expected a dict describing a demand model, found {type(d).__name__}")
        return cls(_core.DemandModel.from_text(to_json_text(dict(d), ModelError), "json", None, False))

    @classmethod
    def from_toml(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in TOML."""
        return cls(_core.DemandModel.from_text(_checks.document_text(text, "model", file), "toml", _file(file)))

    @classmethod
    def from_json(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in JSON."""
        return cls(_core.DemandModel.from_text(_checks.document_text(text, "model", file), "json", _file(file)))

    @classmethod
    def from_yaml(cls, text: str, *, file: Optional[str] = None) -> "Model":
        """Parse a model written in YAML."""
        return cls(_core.DemandModel.from_text(_checks.document_text(text, "model", file), "yaml", _file(file)))

    def to_toml(self) -> str:
        """The model as TOML."""
        return self._core.to_text("toml")

    def to_json(self) -> str:
        """The model as JSON."""
        return self._core.to_text("json")

    def to_yaml(self) -> str:
        """The model as YAML."""
        return self._core.to_text("yaml")

    def to_dict(self) -> Dict[str, Any]:
        """The model as a dict (every section, defaults filled in)."""
        d: Dict[str, Any] = json.loads(self.to_json())
        return d

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return self._core == other._core

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Model {self.to_dict().get('description') or ''!r}>"

    def _repr_html_(self) -> str:
        from ._display import model_html

        return model_html(self)


class Population:
    """The partners to simulate: from a partner table (``partner_id``, ``segment``,
    ``baseline_revenue`` and/or ``baseline_units``, optional ``unit_price``,
    ``margin_rate`` and ``mix_<category>`` shares), or synthetic.

    >>> import rebatesim as rs
    >>> pop = rs.Population.synthetic({"small": {"count": 3, "median_baseline": 50_000}})
    >>> len(pop), pop.segments
    (3, ['small'])
    """

    __slots__ = ("_core",)

    def __init__(self, core: "_core.Population") -> None:
        if not isinstance(core, _core.Population):
            raise TypeError("use Population.from_csv or Population.synthetic")
        self._core = core

    @classmethod
    def from_csv(cls, source: Any) -> "Population":
        """A population from a CSV path or a pandas DataFrame (passed as CSV text, so a
        DataFrame and a file report the same row numbers); an Arrow table (polars, pyarrow,
        a DuckDB relation) or a Parquet path is read as a DataFrame first (pyarrow)."""
        source = as_frame(source)
        if isinstance(source, (str, os.PathLike)):
            return cls(_core.Population.from_csv_path(_checks.path("population", source)))
        if is_frame(source):
            return cls(_core.Population.from_csv_text(frame_csv(source, ""), "partners"))
        raise RequestError(f"population: expected a CSV path or a pandas DataFrame, found {type(source).__name__}")

    @classmethod
    def synthetic(cls, segments: Mapping[str, Mapping[str, Any]], *, basis: str = "revenue", seed: int = 0) -> "Population":
        """A synthetic population: per segment ``count`` partners with lognormal
        baselines ``median_baseline · exp(dispersion · Z)`` (optional ``unit_price``,
        ``margin_rate``), reproducible from ``seed``."""
        if not isinstance(segments, Mapping) or not all(isinstance(v, Mapping) for v in segments.values()):
            raise ModelError("segments: expected a dict of segment name → {count, median_baseline, ...}",
                             path="segments", reason="expected a dict of segment name → {count, median_baseline, ...}")
        spec = {"basis": _checks.text("basis", basis, error=ModelError),
                "segments": {k: dict(v) for k, v in segments.items()}}
        return cls(_core.Population.synthetic(to_json_text(spec, ModelError), _checks.seed(seed)))

    @property
    def partner_ids(self) -> List[str]:
        """Partner ids, in table order."""
        return self._core.partner_ids()

    @property
    def segments(self) -> List[str]:
        """Segment names (sorted)."""
        return self._core.segments

    def to_frame(self) -> "pd.DataFrame":
        """The partners as a DataFrame: ``partner_id``, ``segment``, ``baseline_revenue``,
        ``baseline_units``, the monthly baselines ``baseline_revenue_m01`` … ``_m12`` and
        ``baseline_units_m01`` … ``_m12`` when the table has them (docs/calculations.md §3),
        ``unit_price``, ``margin_rate`` and, when any partner has one, ``demand_revenue``
        (the simulated annual demand level, docs/simulation.md §1) (NaN where not given: a
        partner without either baseline is simulated at its segment's median baseline,
        see :meth:`without_baseline`).

        >>> import rebatesim as rs
        >>> pop = rs.Population.synthetic({"s": {"count": 2, "median_baseline": 50_000}})
        >>> list(pop.to_frame().columns)
        ['partner_id', 'segment', 'baseline_revenue', 'baseline_units', 'unit_price', 'margin_rate']
        """
        import pandas as pd

        cols: Dict[str, Any] = {"partner_id": self._core.partner_ids(), "segment": self._core.partner_segments()}
        for name, values in self._core.columns():
            cols[name] = pd.array([float("nan") if v is None else v for v in values], dtype="float64")
        return pd.DataFrame(cols)

    def without_baseline(self) -> List[str]:
        """Ids of the partners with neither ``baseline_revenue`` nor ``baseline_units``
        (new partners). The simulation runs each at its segment's median baseline, and
        rules that need a baseline (growth, per unit above baseline) do not apply to it,
        as in settlement; :func:`rebatesim.simulate` warns about them."""
        cols = dict(self._core.columns())
        return [pid for pid, r, u in zip(self._core.partner_ids(), cols["baseline_revenue"], cols["baseline_units"])
                if r is None and u is None]

    def __len__(self) -> int:
        return len(self._core)

    def __repr__(self) -> str:
        return f"<Population: {len(self):,} partners in segments {', '.join(self.segments)}>"

    def _repr_html_(self) -> str:
        from ._display import population_html

        return population_html(self)
