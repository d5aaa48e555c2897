"""Bulk evaluation of files: chunked, vectorised, resumable, on one machine or a Dask cluster.

    run_file(job_factory, "in.csv", "out.csv", chunk_size=100_000, resume=False, traces=None, engine="local")

    job, source = open_job(job_factory, "in.csv")      # file-level errors are raised here
    for block in stream_job(job, source): ...          # the same CSV bytes, chunk by chunk (the web service)

`job_factory(renamed_columns)` builds the job (`LocateJob`, `EvaluateJob`) once the input's columns are
known. See docs/batch.md.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import BadInput
from .columns import apply_map, load_map
from .runner import DEFAULT_CHUNK_SIZE, run, stream_job
from .sources import open_source


def open_job(job_factory: Callable, input_path, *, map_file=None) -> tuple:
    """(job, source): the input opened, its columns renamed by the map file, the job built for them.
    A file that cannot be read, or lacks the columns the job needs, is refused here, before any output."""
    source = open_source(Path(input_path))
    return job_factory(apply_map(source.columns, load_map(map_file))), source


def run_file(job_factory: Callable, input_path, output, *, map_file=None, chunk_size: int = DEFAULT_CHUNK_SIZE,
             resume: bool = False, traces=None, engine: str = "local", scheduler: str | None = None,
             workers: int = 2, processes: bool = True, show_progress: bool = True, label: str = "qpv batch",
             announce: Callable[[str], None] | None = None, record=None) -> dict:
    input_path, output = Path(input_path), Path(output)
    if output.resolve() == input_path.resolve():
        raise BadInput("le fichier de sortie ne peut pas être le fichier d'entrée", field="-o")
    job, source = open_job(job_factory, input_path, map_file=map_file)
    if announce:
        announce(f"Lecture de {input_path} : {source.describe()}")
        ignored = job.ignored_columns() if hasattr(job, "ignored_columns") else []
        if ignored:
            announce(f"Colonnes ignorées (pas des faits de la règle) : {', '.join(ignored)}")
    if engine == "dask":
        import gc

        from .distributed import dask_mapper

        gc.enable()  # off during the command line's start (cli.main); this process loads nothing more before the chunks

        with dask_mapper(scheduler, n_workers=workers, processes=processes, warm=getattr(job, "warm", None)) as mapper:
            summary = run(job, source, output, chunk_size=chunk_size, resume=resume, traces=traces, mapper=mapper,
                          show_progress=show_progress, progress_label=label, record=record, same_disk=False)
    else:  # this process reads and writes; `workers` processes answer the chunks (1: all here)
        from .pool import process_mapper

        summary = run(job, source, output, chunk_size=chunk_size, resume=resume, traces=traces,
                      mapper=process_mapper(workers, warm=job.warm_all),
                      show_progress=show_progress, progress_label=label, record=record)
    summary["engine"] = engine
    return summary


def __getattr__(name: str):
    """The jobs are imported when named: `qpv batch locate` never loads the rules engine (nor pandas)."""
    if name == "LocateJob":
        from .locate import LocateJob

        return LocateJob
    if name == "EvaluateJob":
        from .evaluate import EvaluateJob

        return EvaluateJob
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["run_file", "open_job", "stream_job", "open_source", "LocateJob", "EvaluateJob", "DEFAULT_CHUNK_SIZE"]
