"""The run cache shared by the sweeps: a key per parameter set, one ``runs/<key>.npz`` per run.

A run's file holds its spec, its result row (both JSON) and its arrays; it is written to a
temporary name and renamed, so an interrupted sweep leaves no half-written run behind, and a
truncated file is treated as missing (recomputed).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")


def run_key(spec: dict, *, version: int) -> str:
    """A stable 16-hex-digit key of the parameters (and the cache format version)."""
    blob = json.dumps({"v": version, **spec}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def run_path(out_dir, key: str) -> Path:
    return Path(out_dir) / "runs" / f"{key}.npz"


def save_run(out_dir, key: str, spec: dict, row: dict, arrays: dict) -> Path:
    """Write ``runs/<key>.npz`` atomically (temporary file, then rename)."""
    import numpy as np

    path = run_path(out_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{key}.tmp.npz")
    np.savez_compressed(tmp, spec=json.dumps(spec), row=json.dumps(row), **arrays)
    os.replace(tmp, path)
    return path


def load_row(out_dir, key: str) -> dict | None:
    """The cached result row, or None when the run is missing or its file is truncated."""
    import numpy as np

    path = run_path(out_dir, key)
    if not path.exists():
        return None
    try:
        with np.load(path) as z:
            return json.loads(str(z["row"]))
    except Exception:  # noqa: BLE001 - a file truncated by an interrupted run: recompute it
        return None


def single_thread_blas() -> None:
    """Process-pool initializer: one BLAS thread per worker (set before numpy loads)."""
    for var in BLAS_THREAD_VARS:
        os.environ[var] = "1"


def run_pool(run_spec, specs: list[dict], todo: list[int], out_dir, *, jobs: int, error_row,
             on_done=None) -> dict[int, dict]:
    """Run ``run_spec(specs[i], out_dir)`` for i in ``todo``: in this process when jobs <= 1, else
    in a spawned process pool whose workers use one BLAS thread. A crashed worker gives
    ``error_row(spec, exc)`` (no npz is written, so a resumed sweep retries it). ``on_done()`` is
    called after each run (a progress bar). Returns {i: row}.
    """
    rows: dict[int, dict] = {}
    if jobs <= 1 or len(todo) <= 1:
        for i in todo:
            rows[i] = run_spec(specs[i], out_dir)
            if on_done:
                on_done()
        return rows
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    saved = {v: os.environ.get(v) for v in BLAS_THREAD_VARS}
    single_thread_blas()  # spawned workers inherit the environment before importing numpy
    try:
        ctx = mp.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=single_thread_blas) as pool:
            futs = {pool.submit(run_spec, specs[i], str(out_dir)): i for i in todo}
            for fut in as_completed(futs):
                i = futs[fut]
                try:
                    rows[i] = fut.result()
                except Exception as exc:  # noqa: BLE001 - a crashed worker: record it, keep going
                    rows[i] = error_row(specs[i], exc)
                if on_done:
                    on_done()
    finally:
        for var, val in saved.items():
            if val is None:
                os.environ.pop(var, None)
            else:
                os.environ[var] = val
    return rows
