#!/usr/bin/env python3
"""The size rules of issue 14, measured: no Rust function over 120 lines, no Rust module over 700
lines of non-test code, no Python module of the package over 700 lines. Prints the offenders;
``--check`` exits 1 if any (outside the temporary allowances below) exceeds a limit.

    python scripts/size_rules.py [--check] [--all]

What is measured:
- a Rust function's length: the lines from its ``fn`` keyword to its closing brace, both
  included (signature, body, comments and blank lines inside). Braces are matched on the code
  alone: comments (nested block comments too), string literals (raw and byte strings too) and
  character literals are blanked first, so ``'{'`` or ``"}"`` cannot unbalance it;
- a Rust module's non-test lines: every line of a ``.rs`` file under ``src/`` except the lines of
  items marked ``#[cfg(test)]`` (``mod tests { ... }``, test helpers, test-only variants). A file
  that is itself a test module (declared ``#[cfg(test)] mod name;``) is skipped whole, and so are
  the test items' functions. ``tests/`` is not measured;
- a Python module's lines: every line of a ``.py`` file under ``python/rebatesim/``.

Used by tests/python/test_layout.py, which runs ``--check``.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_FN_LINES = 120
MAX_RUST_MODULE_LINES = 700
MAX_PY_MODULE_LINES = 700

# TEMPORARY (session 26): being split or rewritten by other helpers at the time this check was written; the
# lead empties these lists at merge. Each entry is still measured and printed, marked "allowed".
TEMPORARILY_ALLOWED_PY_MODULES: frozenset[str] = frozenset()
TEMPORARILY_ALLOWED_RUST_FNS: frozenset[str] = frozenset()
TEMPORARILY_ALLOWED_RUST_MODULES: frozenset[str] = frozenset()

_IDENT = re.compile(r"[A-Za-z0-9_]")
_RAW_STRING = re.compile(r'b?r(#*)"')


def blank_non_code(text: str) -> str:
    """``text`` with the insides of comments, string literals and character literals replaced
    by spaces (newlines kept, so offsets and line numbers are unchanged)."""
    out = list(text)
    n = len(text)
    i = 0

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        prev_is_ident = i > 0 and _IDENT.match(text[i - 1]) is not None
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            blank(i, j)
            i = j
        elif c in "rb" and not prev_is_ident and (m := _RAW_STRING.match(text, i)):
            close = '"' + m.group(1)
            end = text.find(close, m.end())
            end = n if end < 0 else end + len(close)
            blank(m.end(), end - len(close))
            i = end
        elif c == '"' or (c == "b" and not prev_is_ident and text.startswith('b"', i)):
            j = i + (2 if c == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            blank(i + (2 if c == "b" else 1), j)
            i = j + 1
        elif c == "'":
            # A character literal ('x', '\n', '\u{7b}', '{') or a lifetime / label ('a).
            if i + 1 < n and text[i + 1] == "\\":
                j = text.find("'", i + 3)
                j = n if j < 0 else j
                blank(i + 1, j)
                i = j + 1
            elif i + 2 < n and text[i + 2] == "'":
                blank(i + 1, i + 2)
                i += 3
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def matching_brace(code: str, open_at: int) -> int:
    """The offset of the ``}`` closing the ``{`` at ``open_at`` (blanked code)."""
    depth = 0
    for k in range(open_at, len(code)):
        if code[k] == "{":
            depth += 1
        elif code[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    raise ValueError(f"unbalanced brace at offset {open_at}")


_ATTRIBUTE = re.compile(r"\s*#!?\[")
_CFG_TEST = re.compile(r"#\[cfg\((?:test|all\(test\b[^\]]*)\)\]")
_ITEM_KEYWORD = re.compile(
    r"\s*(?:pub(?:\([^)]*\))?\s+)?(?:(?:unsafe|async|const|extern(?:\s+\"[^\"]*\")?|default)\s+)*"
    r"(fn|mod|impl|struct|enum|union|trait|use|const|static|type|macro_rules!)\b"
)
_MOD_DECL = re.compile(r"\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+([A-Za-z_][A-Za-z0-9_]*)\s*;")


def _skip_attributes(code: str, at: int) -> int:
    while m := _ATTRIBUTE.match(code, at):
        depth, k = 0, m.end() - 1
        while k < len(code):
            if code[k] == "[":
                depth += 1
            elif code[k] == "]":
                depth -= 1
                if depth == 0:
                    break
            k += 1
        at = k + 1
    return at


def _item_end(code: str, start: int) -> int:
    """The offset just past the item (or field / variant) starting at ``start``."""
    is_item = _ITEM_KEYWORD.match(code, start) is not None
    depth = 0
    for k in range(start, len(code)):
        ch = code[k]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif depth == 0 and ch == "{":
            end = matching_brace(code, k) + 1
            if is_item:
                return end
            # a struct-like variant or a field initialiser: runs on to its comma
            for j in range(end, len(code)):
                if code[j] in ",}":
                    return j + (code[j] == ",")
                if not code[j].isspace():
                    break
            return end
        elif depth == 0 and ch == ";":
            return k + 1
        elif depth == 0 and ch == "," and not is_item:
            return k + 1
        elif ch == "}" and depth <= 0:
            return k
    return len(code)


@dataclass
class RustFile:
    path: Path
    lines: int
    test_spans: list[tuple[int, int]]  # offsets [a, b) of #[cfg(test)] items
    test_modules: list[Path]  # files declared `#[cfg(test)] mod name;`
    code: str

    def in_test(self, offset: int) -> bool:
        return any(a <= offset < b for a, b in self.test_spans)

    def non_test_lines(self) -> int:
        test_lines: set[int] = set()
        for a, b in self.test_spans:
            first = self.code.count("\n", 0, a)
            last = self.code.count("\n", 0, max(a, b - 1))
            # the attribute's own line and every line of the item
            test_lines.update(range(first, last + 1))
        return self.lines - len(test_lines)


def read_rust(path: Path) -> RustFile:
    text = path.read_text(encoding="utf-8")
    code = blank_non_code(text)
    spans: list[tuple[int, int]] = []
    test_modules: list[Path] = []
    for m in _CFG_TEST.finditer(code):
        if any(a <= m.start() < b for a, b in spans):
            continue
        item = _skip_attributes(code, m.end())
        end = _item_end(code, item)
        spans.append((m.start(), end))
        if decl := _MOD_DECL.match(code, item):
            name = decl.group(1)
            here = path.parent if path.name in ("mod.rs", "lib.rs", "main.rs") else path.with_suffix("")
            for candidate in (here / f"{name}.rs", here / name / "mod.rs"):
                if candidate.exists():
                    test_modules.append(candidate)
    return RustFile(path, text.count("\n") + (not text.endswith("\n") and bool(text)), spans, test_modules, code)


_FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")


def rust_functions(f: RustFile) -> list[tuple[str, int, int]]:
    """(name, first line, length in lines) of every non-test function with a body."""
    found = []
    for m in _FN.finditer(f.code):
        if f.in_test(m.start()):
            continue
        depth = 0
        for k in range(m.end(), len(f.code)):
            ch = f.code[k]
            if ch in "([":
                depth += 1
            elif ch in ")]":
                depth -= 1
            elif depth == 0 and ch == ";":
                break  # a declaration without a body (trait method, extern)
            elif depth == 0 and ch == "{":
                close = matching_brace(f.code, k)
                first = f.code.count("\n", 0, m.start()) + 1
                last = f.code.count("\n", 0, close) + 1
                found.append((m.group(1), first, last - first + 1))
                break
    return found


@dataclass
class Measure:
    name: str
    size: int
    limit: int
    allowed: bool


def measure(root: Path = ROOT) -> tuple[list[Measure], list[Measure], list[Measure]]:
    """Every Rust function, Rust module and Python module, each with its size and limit."""
    src = root / "src"
    files = {p: read_rust(p) for p in sorted(src.rglob("*.rs"))}
    test_files = {t for f in files.values() for t in f.test_modules}
    fns, rust_mods = [], []
    for path, f in files.items():
        if path in test_files:
            continue
        rel = path.relative_to(src).as_posix()
        rust_mods.append(Measure(f"src/{rel}", f.non_test_lines(), MAX_RUST_MODULE_LINES,
                                 f"src/{rel}" in TEMPORARILY_ALLOWED_RUST_MODULES))
        for name, line, length in rust_functions(f):
            key = f"{rel}::{name}"
            fns.append(Measure(f"{key} (line {line})", length, MAX_FN_LINES, key in TEMPORARILY_ALLOWED_RUST_FNS))
    py_mods = []
    for path in sorted((root / "python" / "rebatesim").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        py_mods.append(Measure(rel, lines, MAX_PY_MODULE_LINES, rel in TEMPORARILY_ALLOWED_PY_MODULES))
    return fns, rust_mods, py_mods


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a limit is exceeded")
    ap.add_argument("--all", action="store_true", help="list the 10 largest of each kind, offenders or not")
    a = ap.parse_args(argv)
    failing = 0
    titles = ("Rust functions over {} lines", "Rust modules over {} non-test lines", "Python modules over {} lines")
    for title, items in zip(titles, measure()):
        items = sorted(items, key=lambda m: (-m.size, m.name))
        over = [m for m in items if m.size > m.limit]
        shown = items[:10] if a.all else over
        print(title.format(items[0].limit if items else "?") + f": {len(over)} (of {len(items)})")
        for m in shown:
            note = "  (temporarily allowed)" if m.allowed and m.size > m.limit else ""
            print(f"  {m.size:5d}  {m.name}{note}")
        failing += sum(1 for m in over if not m.allowed)
    if a.check and failing:
        print(f"size rules: {failing} offender(s) over the limits (issue 14)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
