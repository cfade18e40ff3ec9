"""What the ``rebatesim`` commands do around their computation: the executor of
``--workers``/``--dask``, the run options, the outputs declared before any long computation
(``--out DIR``, ``--excel FILE``), report folders and the manifest written into them."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from typing import Any, Dict, Iterator, Optional

from .exceptions import RequestError

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug in rebatesim, never the input's fault

@contextlib.contextmanager
def executor(args: argparse.Namespace) -> Iterator[Any]:
    """The executor ``--workers N`` (a local process pool) or ``--dask ADDRESS`` (the Dask
    scheduler there) ask for, shut down when the command is done; None (a local run) without
    them. The results do not depend on it (docs/scale-out.md)."""
    if getattr(args, "dask", None):
        try:
            from distributed import Client
        except ImportError:
            raise RequestError("--dask needs the dask extra: pip install 'rebatesim[dask]'") from None
        try:
            client = Client(args.dask, timeout="30s")  # type: ignore[no-untyped-call]
        except OSError as e:
            raise RequestError(f"--dask: cannot reach the Dask scheduler at {args.dask}: {e}") from None
        try:
            yield client.get_executor()  # type: ignore[no-untyped-call]
        finally:
            client.close()  # type: ignore[no-untyped-call]
    elif getattr(args, "workers", None):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawned, not forked: a fork of a process whose engine threads have run can hang
        with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            yield pool
    else:
        yield None


def sim_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    """The run options of simulate and compare (``--tolerance`` as a precision target)."""
    precision = None
    if args.tolerance is not None:
        precision = (args.statistic or "mean", args.tolerance)
    return dict(
        scenarios=args.scenarios, seed=args.seed, threads=args.threads, precision=precision,
        max_scenarios=args.max_scenarios, progress=not args.json and sys.stderr.isatty(),
    )


def inputs(args: argparse.Namespace, **files: Any) -> Dict[str, str]:
    """The inputs of a run, for the report's Inputs section."""
    out: Dict[str, str] = {}
    for label, value in files.items():
        if value:
            out[label.replace("_", " ").capitalize()] = ", ".join(map(str, value)) if isinstance(value, list) else os.path.abspath(str(value))
    out["Scenarios"] = f"{args.scenarios:,}" + (f" (until the standard error of {args.statistic or 'mean'} ≤ {args.tolerance:,})"
                                                if getattr(args, "tolerance", None) is not None else "")
    out["Seed"] = str(args.seed)
    out["Command"] = "rebatesim " + " ".join(getattr(args, "argv", []))
    return out


def declare_outputs(args: argparse.Namespace, out: Optional[str] = None) -> None:
    """Check every output of the command (--out DIR, forecast's --excel FILE) before any
    long computation: ``args.outputs`` is their :class:`~rebatesim.outputs.Outputs`
    transaction (written together at the end, or not at all), ``args.out_target`` and
    ``args.excel_target`` the outputs (None when not asked for)."""
    from .outputs import Outputs

    outs = Outputs()
    out = out or getattr(args, "out", None)
    args.out_target = outs.folder(out, force=args.force) if out else None
    excel = getattr(args, "excel", None)
    args.excel_target = outs.file(excel, suffixes=(".xlsx", ".xlsm")) if excel else None
    args.outputs = outs


def write_report(args: argparse.Namespace, rep: Any) -> str:
    """Write a report folder as the command's ``--out`` (declared by :func:`declare_outputs`);
    returns the line that says where, printed after the summary."""
    with args.outputs:
        rep.write(args.out_target.path)
        write_manifest(args, args.out_target.path)
    return f"\nwrote the report to {args.out_target.target}{os.sep}report.html (charts, CSV, Excel alongside)"


def write_manifest(args: argparse.Namespace, folder: Any) -> None:
    """Record the run's manifest.json in its output folder (rebatesim.manifest)."""
    from . import manifest

    manifest.write(args, folder)
