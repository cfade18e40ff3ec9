"""The package version, read from the compiled core (one number for the wheel, the core and
the files rebatesim writes). Modules that print or record the version import it from here,
never from the package root."""

from __future__ import annotations

from . import _core

__all__ = ["__version__"]

__version__: str = _core.__version__
