"""The one sweep engine of the experiments: typed run specs, a verified cache, executors, CSV.

An experiment module describes its grid and its plots; this module does everything else:

* a **run spec** is a frozen dataclass (its fields are the run's parameters); a :class:`Sweep`
  names the spec type, a cache ``version``, the CSV ``fields`` and ``run(spec) -> (row, arrays)``;
* the **cache**: one ``DIR/runs/<key>.npz`` per finished run, ``key`` = hash of (spec type,
  version, parameters). Each file carries its key and its spec (JSON) and both are checked on load
  (a misplaced or foreign file is ignored and recomputed, never mixed in). Files are written under
  a temporary name unique to the process and then renamed, so concurrent writers never collide and
  an interrupted run leaves nothing half-written. Rows with status ``error``/``time_limit``
  (not a property of the parameters) are never cached: the next invocation retries them;
* **executors**: in this process (``jobs=1``), a local pool of worker processes (``jobs>1``: each a
  fresh interpreter with one BLAS thread, fed one run at a time; a worker that dies costs only the
  run it held, recorded as an ``error`` row, and is replaced), or an existing Dask cluster
  (``dask=ADDRESS``). SIGINT and SIGTERM stop a sweep promptly: the workers are terminated (and
  die with the parent even on SIGKILL: ``PR_SET_PDEATHSIG`` on Linux, a parent watchdog
  elsewhere), what finished is written, and the command exits 130/143;
* **outputs**: ``DIR/<experiment>.csv`` (a CSV already there with another header is kept and the
  new one written beside it as ``<experiment>-1.csv``), a summary line ``done, cached, failed,
  diverged, skipped`` on stderr, and a non-zero exit status when a run failed, diverged or was
  skipped (:func:`exit_code`).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import importlib
import json
import os
import pickle
import secrets
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dmf_verify.errors import InvalidArgument

BLAS_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
NOT_CACHED = ("error", "time_limit")
DIVERGED = ("diverged",)
COMMON_FIELDS = ("status", "message", "seconds", "key")


@dataclass(frozen=True)
class Sweep:
    """What the engine needs to know about one kind of run.

    ``run(spec)`` returns ``(row, arrays)``: the CSV row (a dict; ``status`` and ``message``
    expected) and the arrays to cache. ``ok`` lists the statuses of a successful run;
    ``label(spec)`` is the short text of progress lines. ``module`` is where the sweep is defined
    (a worker re-imports it by name: ``module.SWEEPS[name]``).
    """

    name: str
    spec_type: type
    version: int
    fields: tuple
    run: Callable
    ok: tuple = ("converged",)
    label: Callable | None = None
    module: str = ""
    batch_key: Callable | None = None   # spec -> hashable (runs with equal keys may share one batch) or None
    run_batch: Callable | None = None   # [spec, ...] -> [(row, arrays), ...] (one device, in this process)

    def key(self, spec) -> str:
        return run_key(self, spec)


def spec_dict(spec) -> dict:
    return dataclasses.asdict(spec)


def run_key(sweep: Sweep, spec) -> str:
    """A stable 16-hex-digit key of (spec type, cache version, parameters)."""
    if not isinstance(spec, sweep.spec_type):
        raise InvalidArgument(f"sweep {sweep.name!r} expects {sweep.spec_type.__name__} specs, got {type(spec).__name__}")
    blob = json.dumps({"spec_type": sweep.spec_type.__name__, "v": sweep.version, **spec_dict(spec)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def resolve(module: str, name: str) -> Sweep:
    mod = importlib.import_module(module)
    return mod.SWEEPS[name]


# --------------------------------------------------------------------------------------------
# cache


def run_path(out_dir, key: str) -> Path:
    return Path(out_dir) / "runs" / f"{key}.npz"


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.stem}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def clean_stale_tmp(out_dir) -> int:
    """Remove temporary files in ``runs/`` left by processes that no longer exist (a SIGKILL mid-write)."""
    runs = Path(out_dir) / "runs"
    n = 0
    if not runs.is_dir():
        return 0
    for p in runs.glob(".*.tmp"):
        parts = p.name.split(".")
        try:
            pid = int(parts[-3])
        except (IndexError, ValueError):
            continue
        try:
            os.kill(pid, 0)
            continue  # still running (its writer will rename or remove it)
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        try:
            p.unlink()
            n += 1
        except OSError:
            pass
    return n


def save_run(out_dir, key: str, spec: dict, row: dict, arrays: dict) -> Path:
    """Write ``runs/<key>.npz`` (key, spec, row, arrays) under a unique temporary name, then rename."""
    import numpy as np

    path = run_path(out_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, __key__=key, __spec__=json.dumps(spec, sort_keys=True), __row__=json.dumps(row),
                                **arrays)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def store_bytes(out_dir, key: str, data: bytes) -> Path:
    path = run_path(out_dir, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_row(out_dir, key: str, spec: dict) -> tuple[dict | None, str]:
    """(row, "") for a valid cached run; (None, reason) when missing, truncated, foreign or not final."""
    import numpy as np

    path = run_path(out_dir, key)
    if not path.exists():
        return None, "missing"
    try:
        with np.load(path) as z:
            stored_key = str(z["__key__"])
            stored_spec = json.loads(str(z["__spec__"]))
            row = json.loads(str(z["__row__"]))
    except Exception:  # noqa: BLE001 - truncated, foreign or old-format file: recompute it
        return None, "unreadable"
    if stored_key != key or stored_spec != json.loads(json.dumps(spec, sort_keys=True)):
        return None, "mismatch"
    if row.get("status") in NOT_CACHED:
        return None, "not final"
    return row, ""


def load_arrays(out_dir, key: str) -> dict:
    import numpy as np

    with np.load(run_path(out_dir, key)) as z:
        return {k: z[k] for k in z.files if not k.startswith("__")}


# --------------------------------------------------------------------------------------------
# one run


def execute(sweep: Sweep, spec, out_dir) -> dict:
    """Run one spec, cache it (unless its status is not final) and return its row; any exception
    inside the run becomes an ``error`` row (the sweep goes on)."""
    key = run_key(sweep, spec)
    start = time.perf_counter()
    arrays: dict = {}
    try:
        row, arrays = sweep.run(spec)
        row = dict(row)
    except Exception as exc:  # noqa: BLE001 - recorded, not raised: one bad run must not stop a sweep
        row = {"status": "error", "message": f"{type(exc).__name__}: {exc}"}
    row.setdefault("message", "")
    row["seconds"] = round(time.perf_counter() - start, 4)
    row["key"] = key
    full = {**spec_dict(spec), **row}
    if out_dir is not None and full.get("status") not in NOT_CACHED:
        save_run(out_dir, key, spec_dict(spec), full, arrays)
    return full


def execute_batch(sweep: Sweep, specs: list, out_dir) -> list[dict]:
    """Run specs that share a batch key together (``sweep.run_batch``), caching each as :func:`execute`."""
    start = time.perf_counter()
    try:
        results = sweep.run_batch(list(specs))
    except Exception as exc:  # noqa: BLE001 - recorded for every run of the batch
        results = [({"status": "error", "message": f"{type(exc).__name__}: {exc}"}, {}) for _ in specs]
    secs = round((time.perf_counter() - start) / max(1, len(specs)), 4)
    rows = []
    for spec, (row, arrays) in zip(specs, results):
        key = run_key(sweep, spec)
        full = {**spec_dict(spec), "message": "", **row, "seconds": secs, "key": key}
        if out_dir is not None and full.get("status") not in NOT_CACHED:
            save_run(out_dir, key, spec_dict(spec), full, arrays)
        rows.append(full)
    return rows


def execute_named(module: str, name: str, spec_d: dict, out_dir) -> dict:
    sweep = resolve(module, name)
    return execute(sweep, sweep.spec_type(**spec_d), out_dir)


def error_row(sweep: Sweep, spec, message: str) -> dict:
    return {**spec_dict(spec), "status": "error", "message": message, "seconds": "", "key": run_key(sweep, spec)}


# --------------------------------------------------------------------------------------------
# the sweep


@dataclass
class Outcome:
    rows: list            # one row per spec (None where the run was skipped)
    counts: dict
    interrupted: int = 0  # the signal that stopped the sweep, or 0
    seconds: float = 0.0
    cache_notes: dict = field(default_factory=dict)

    def summary(self, name: str) -> str:
        c = self.counts
        text = (f"{name}: {len(self.rows)} runs: {c['done']} done, {c['cached']} cached, {c['failed']} failed, "
                f"{c['diverged']} diverged, {c['skipped']} skipped ({self.seconds:.1f} s)")
        if self.interrupted:
            text += f"; interrupted by {signal.Signals(self.interrupted).name}"
        return text


class _Interrupted(BaseException):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def _classify(sweep: Sweep, row: dict | None) -> str:
    if row is None:
        return "skipped"
    st = row.get("status")
    if st in sweep.ok:
        return "ok"
    if st in DIVERGED:
        return "diverged"
    return "failed"


def run_sweep(sweep: Sweep, specs: list, out_dir, *, jobs: int = 1, dask: str | None = None,
              progress: bool = True, log=None) -> Outcome:
    """Run every spec not already cached; return the rows (in spec order) and the counts."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidArgument(f"--jobs must be an integer >= 1, got {jobs!r}")
    start = time.perf_counter()
    out_dir = Path(out_dir)
    clean_stale_tmp(out_dir)
    rows: list = [None] * len(specs)
    todo, notes = [], {}
    seen = {}
    for i, spec in enumerate(specs):
        key = run_key(sweep, spec)
        if key in seen:
            raise InvalidArgument(f"the grid lists the same run twice: {spec_dict(spec)}")
        seen[key] = i
        row, why = load_row(out_dir, key, spec_dict(spec))
        if row is not None:
            rows[i] = row
        else:
            todo.append(i)
            notes[why] = notes.get(why, 0) + 1
    cached = len(specs) - len(todo)
    extra = "".join(f", {n} {why}" for why, n in sorted(notes.items()) if why != "missing")
    log(f"{sweep.name}: {len(specs)} runs: {cached} cached, {len(todo)} to do{extra}, "
        + (f"dask={dask}" if dask else f"jobs={jobs}"))
    done_count = [0]

    def on_row(i, row):
        rows[i] = row
        done_count[0] += 1
        if progress:
            label = sweep.label(specs[i]) if sweep.label else row.get("key", "")
            log(f"[{done_count[0]}/{len(todo)}] {label}: {row.get('status')} ({_fmt_s(row.get('seconds'))})")

    interrupted = 0
    old = {}
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        def handler(signum, frame):
            raise _Interrupted(signum)
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, handler)
    try:
        if not todo:
            pass
        elif dask:
            _run_dask(sweep, specs, todo, out_dir, dask, on_row)
        elif jobs == 1 or len(todo) == 1:
            groups: dict = {}
            for i in todo:
                k = sweep.batch_key(specs[i]) if (sweep.batch_key and sweep.run_batch) else None
                groups.setdefault(("single", i) if k is None else ("batch", k), []).append(i)
            for (kind, _), idxs in groups.items():
                if kind == "batch" and len(idxs) > 1:
                    for i, row in zip(idxs, execute_batch(sweep, [specs[i] for i in idxs], out_dir)):
                        on_row(i, row)
                else:
                    for i in idxs:
                        on_row(i, execute(sweep, specs[i], out_dir))
        else:
            _run_pool(sweep, specs, todo, out_dir, jobs, on_row)
    except (_Interrupted, KeyboardInterrupt) as exc:
        interrupted = getattr(exc, "signum", signal.SIGINT)
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
    counts = {"done": 0, "cached": cached, "failed": 0, "diverged": 0, "skipped": 0}
    todo_set = set(todo)
    for i, row in enumerate(rows):
        kind = _classify(sweep, row)
        if kind == "skipped":
            counts["skipped"] += 1
        elif kind == "failed":
            counts["failed"] += 1
        elif kind == "diverged":
            counts["diverged"] += 1
        if row is not None and i in todo_set and kind != "failed":
            counts["done"] += 1
    return Outcome(rows, counts, int(interrupted), time.perf_counter() - start, notes)


def exit_code(outcome: Outcome) -> int:
    """128 + signal when interrupted; 1 when any run failed, diverged or was skipped; else 0."""
    if outcome.interrupted:
        return 128 + outcome.interrupted
    c = outcome.counts
    return 1 if (c["failed"] or c["diverged"] or c["skipped"]) else 0


def _fmt_s(x) -> str:
    try:
        return f"{float(x):.2f} s"
    except (TypeError, ValueError):
        return "-"


# --------------------------------------------------------------------------------------------
# local pool: worker processes fed one run at a time over pipes


def _worker_env() -> dict:
    env = dict(os.environ)
    for v in BLAS_THREAD_VARS:
        env[v] = "1"
    root = str(Path(__file__).resolve().parents[3])  # the directory holding this dmf_verify package
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


class _Worker:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "dmf_verify.checks.experiments._worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_worker_env(),
                                     start_new_session=False)
        self.task = None

    def send(self, obj) -> None:
        data = pickle.dumps(obj)
        self.proc.stdin.write(struct.pack("<Q", len(data)) + data)
        self.proc.stdin.flush()

    def recv(self):
        hdr = _read_exact(self.proc.stdout, 8)
        if hdr is None:
            return None
        (n,) = struct.unpack("<Q", hdr)
        body = _read_exact(self.proc.stdout, n)
        return None if body is None else pickle.loads(body)

    def stop(self, timeout: float = 3.0) -> None:
        p = self.proc
        if p.poll() is None:
            try:
                p.stdin.close()
            except OSError:
                pass
            if self.task is not None:
                p.terminate()
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for fh in (p.stdin, p.stdout):
            try:
                fh.close()
            except OSError:
                pass


def _read_exact(fh, n: int):
    buf = b""
    while len(buf) < n:
        chunk = fh.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def _describe_exit(code) -> str:
    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _run_pool(sweep: Sweep, specs, todo, out_dir, jobs, on_row) -> None:
    import selectors

    queue = deque(todo)
    workers: list[_Worker] = []
    sel = selectors.DefaultSelector()

    def start_worker():
        w = _Worker()
        workers.append(w)
        sel.register(w.proc.stdout, selectors.EVENT_READ, w)
        return w

    def assign(w):
        if queue and w.task is None:
            i = queue.popleft()
            w.task = i
            try:
                w.send((sweep.module, sweep.name, spec_dict(specs[i]), str(out_dir)))
            except (BrokenPipeError, OSError):
                pass  # the worker died before it read: its EOF is handled below

    try:
        for _ in range(min(jobs, len(todo))):
            assign(start_worker())
        while any(w.task is not None for w in workers):
            for key, _ in sel.select(timeout=0.5):
                w = key.data
                msg = w.recv()
                if msg is None:  # the worker died: its run is an error row, the rest go on
                    sel.unregister(w.proc.stdout)
                    code = w.proc.wait()
                    i, w.task = w.task, None
                    workers.remove(w)
                    w.stop()
                    if i is not None:
                        on_row(i, error_row(sweep, specs[i], f"worker process died ({_describe_exit(code)}) "
                                                               "during this run; it is retried next time"))
                    if queue:
                        assign(start_worker())
                    continue
                i, w.task = w.task, None
                on_row(i, msg)
                assign(w)
    finally:
        for w in workers:
            try:
                sel.unregister(w.proc.stdout)
            except (KeyError, ValueError):
                pass
            w.stop()
        sel.close()


# --------------------------------------------------------------------------------------------
# Dask


_ONE_THREAD = {"lock": threading.Lock(), "depth": 0, "saved": None, "limits": None}


def enter_one_blas_thread() -> None:
    """Set one BLAS thread for this process (reference-counted across a Dask worker's threads)."""
    with _ONE_THREAD["lock"]:
        _ONE_THREAD["depth"] += 1
        if _ONE_THREAD["depth"] > 1:
            return
        _ONE_THREAD["saved"] = {v: os.environ.get(v) for v in BLAS_THREAD_VARS}
        for v in BLAS_THREAD_VARS:
            os.environ[v] = "1"
        try:
            from threadpoolctl import threadpool_limits

            _ONE_THREAD["limits"] = threadpool_limits(limits=1)
        except ImportError:
            _ONE_THREAD["limits"] = None


def exit_one_blas_thread() -> None:
    with _ONE_THREAD["lock"]:
        _ONE_THREAD["depth"] -= 1
        if _ONE_THREAD["depth"] > 0:
            return
        if _ONE_THREAD["limits"] is not None:
            _ONE_THREAD["limits"].restore_original_limits()
            _ONE_THREAD["limits"] = None
        for v, val in (_ONE_THREAD["saved"] or {}).items():
            if val is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = val
        _ONE_THREAD["saved"] = None


def dask_task(module: str, name: str, spec_d: dict) -> tuple[dict, bytes | None]:
    """Run one spec on a Dask worker with one BLAS thread; return (row, bytes of its .npz or None).

    The .npz is written in a private temporary directory on the worker and shipped back, so the
    workers need not share the client's file system."""
    import tempfile

    enter_one_blas_thread()
    try:
        with tempfile.TemporaryDirectory(prefix="dmf-dask-") as tmp:
            row = execute_named(module, name, spec_d, tmp)
            p = run_path(tmp, row["key"])
            return row, (p.read_bytes() if p.exists() else None)
    finally:
        exit_one_blas_thread()


def dask_probe() -> dict:
    """Runs on every worker before the sweep: fails there when dmf-verify cannot be imported."""
    import numpy

    return {"numpy": numpy.__version__, "omp": os.environ.get("OMP_NUM_THREADS")}


def connect_dask(address: str):
    try:
        from distributed import Client
    except ImportError as exc:
        raise InvalidArgument(
            f"--dask {address!r} needs the optional dependency dask[distributed] "
            f"(pip install 'dask[distributed]' or the project's [dask] extra): {exc}") from exc
    try:
        if address.endswith(".json") and Path(address).is_file():
            client = Client(scheduler_file=address)
        else:
            client = Client(address)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InvalidArgument(f"cannot connect to the Dask scheduler at {address!r}: "
                              f"{type(exc).__name__}: {exc}") from exc
    try:
        client.run(dask_probe)
    except Exception as exc:  # whatever the worker raised, as one clear error
        client.close()
        raise InvalidArgument(f"the workers of the Dask cluster at {address!r} cannot run dmf-verify tasks "
                              f"(is the same dmf-verify installed on every worker?): "
                              f"{type(exc).__name__}: {exc}") from exc
    return client


def _run_dask(sweep: Sweep, specs, todo, out_dir, address, on_row) -> None:
    from distributed import as_completed

    client = connect_dask(address)
    token = secrets.token_hex(4)
    futs = {}
    try:
        for i in todo:
            key = run_key(sweep, specs[i])
            fut = client.submit(dask_task, sweep.module, sweep.name, spec_dict(specs[i]),
                                key=f"dmf-run-{key}-{token}", pure=False, retries=0)
            futs[fut] = i
        for fut in as_completed(list(futs)):
            i = futs.pop(fut)
            try:
                row, data = fut.result()
            except Exception as exc:  # noqa: BLE001 - a failed task: record it, keep going
                row = error_row(sweep, specs[i], f"{type(exc).__name__}: {exc}")
            else:
                if data is not None:
                    store_bytes(out_dir, row["key"], data)
            fut.release()
            on_row(i, row)
    finally:
        if futs:  # interrupted: do not leave work running on a shared cluster
            client.cancel(list(futs))
        client.close()


# --------------------------------------------------------------------------------------------
# outputs and the command line


def prepare_out(out) -> Path:
    """Create ``out`` (a directory) and check it is writable before any work starts."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InvalidArgument(f"--out {str(out)!r} exists and is not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test.{os.getpid()}.{secrets.token_hex(4)}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InvalidArgument(f"--out {str(out)!r} is not a writable directory: {exc}") from exc
    return out


def write_csv(out_dir, name: str, fields, rows, *, log=None) -> Path:
    """Write ``DIR/<name>.csv``; an existing file with another header is kept (the new one goes to
    ``<name>-1.csv``, ``-2``, ...) and a notice goes to ``log``."""
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    fields = list(fields)
    out_dir = Path(out_dir)
    path = out_dir / f"{name}.csv"
    k = 0
    while path.exists():
        with open(path, newline="") as fh:
            header = next(csv.reader(fh), None)
        if header == fields:
            break
        k += 1
        path = out_dir / f"{name}-{k}.csv"
    if k:
        log(f"note: {out_dir / (name + '.csv')} is not this sweep's table (other columns): kept; writing {path}")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            if r is not None:
                w.writerow({k2: _cell(r.get(k2, "")) for k2 in fields})
    os.replace(tmp, path)
    return path


def _cell(v):
    if v is None:
        return ""
    return v


def add_sweep_options(parser, *, default_out: str) -> None:
    parser.add_argument("--out", default=default_out, metavar="DIR",
                        help=f"output directory: CSV, PNGs and the run cache runs/ (default {default_out})")
    from dmf_verify.checks.cli import int_option

    parser.add_argument("--jobs", type=int_option(min=1), default=1, metavar="N",
                        help="worker processes, one BLAS thread each (default 1: run in this process)")
    parser.add_argument("--dask", default=None, metavar="ADDRESS",
                        help="run on an existing Dask cluster: scheduler address (tcp://host:8786) or scheduler "
                             "file (*.json); needs dask[distributed]; --jobs is then ignored")
    parser.add_argument("--quick", action="store_true", help="tiny grid for CI (seconds)")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG plots")
    parser.add_argument("--no-progress", action="store_true", help="no per-run progress lines on stderr")


def report(name: str, outcome: Outcome, csv_path, *, log=None) -> int:
    log = log or (lambda s: print(s, file=sys.stderr, flush=True))
    log(outcome.summary(name))
    bad = [r for r in outcome.rows if r is not None and r.get("status") == "error"]
    for r in bad[:5]:
        log(f"  error in run {r.get('key')}: {r.get('message')}")
    print(f"{name}: {len(outcome.rows)} runs -> {csv_path}")
    return exit_code(outcome)
