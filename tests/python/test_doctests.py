"""The examples in the docstrings of the public modules run as written."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "rebatesim",
    "rebatesim.exceptions",
    "rebatesim.programme",
    "rebatesim.settlement",
    "rebatesim.simulation",
    "rebatesim.comparison",
    "rebatesim.demand",
    "rebatesim._inputs",
    "rebatesim._run",
    "rebatesim._examples",
    "rebatesim.outputs",
    "rebatesim._checks",
    "rebatesim._format",
    "rebatesim.report",
    "rebatesim.design_search",
    "rebatesim._executor",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
