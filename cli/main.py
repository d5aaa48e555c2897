"""Entry point of the `qpv` command.

Each domain registers its commands from its own module. Modules import their heavy dependencies
inside the command functions, so that `qpv locate` stays quick to start.
"""
from __future__ import annotations

import importlib

import click
from qpv_cli import french

from eligibility import __version__

french.install()  # before any command runs: click's own help and error strings in French

COMMAND_MODULES = [
    "data_commands",
    "geography_commands",
    "rules_commands",
    "criteria_commands",
    "batch_commands",
    "address_commands",
    "web_commands",
    "register_commands",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qpv")
def qpv() -> None:
    """qpv : quartiers prioritaires de la politique de la ville et dispositifs associés.

    Chaque réponse vient avec sa trace d'audit et le texte de loi de chaque étape.
    """


for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"qpv_cli.{_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"qpv_cli.{_name}":
            raise
        continue  # that domain has no commands yet
    _module.register(qpv)


def main() -> None:
    import sys

    if sys.argv[1:2] != ["batch"]:
        qpv(prog_name="qpv")
        return
    import gc

    # A batch's start imports the engine and loads the reference data: objects that live as long as the command,
    # which the cyclic collector walked again and again for nothing (~30 ms of a 1M-row locate's serial start).
    # It is back on once the chunks are answered (`batch.pool`, and the Dask path), in every process.
    gc.disable()
    _numpy_without_blas_threads()
    try:
        qpv(prog_name="qpv")
    except SystemExit as exc:  # click ends every command so, the batch's output already published
        _exit_now(exc.code)
    _exit_now(0)


def _numpy_without_blas_threads() -> None:
    """numpy imported with its OpenBLAS held to one thread, in a batch process. Loading OpenBLAS starts a thread
    per extra core, which spins waiting for work that never comes (~0.1 CPU s of a 1M-row batch, on the core its
    serial start leaves to the workers): the batch's arithmetic is element-wise, and its parallelism is its worker
    processes. OpenBLAS reads the variable once, when numpy loads it: it is set only for that import, and a value
    the user chose is kept."""
    import os
    import sys

    if "numpy" in sys.modules or "OPENBLAS_NUM_THREADS" in os.environ:
        return
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    try:
        import numpy  # noqa: F401
    finally:
        del os.environ["OPENBLAS_NUM_THREADS"]


def _exit_now(code) -> None:
    """End a batch command without the interpreter's teardown (freeing the reference data and every module one
    object at a time: ~0.3 s after a 1M-row locate); exit handlers still run and the streams are flushed."""
    import atexit
    import os
    import sys

    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)
