"""Run one script of the public code of Arora et al. 2019 (github: roosephu/deep_matrix_factorization)
unchanged, with stand-ins for its logging-only dependencies.

    python benchmarks/_public_harness.py PUBLIC_DIR SCRIPT.py [its arguments ...]

The public code needs coloredlogs, toml, tensorboardX and fasteners only for logging, config files
and its run-directory lock; this harness puts minimal stand-ins for them into ``sys.modules`` (no
output of theirs is used), imports numpy, torch and cvxpy first (so the timed part is the script's
own work), runs SCRIPT from PUBLIC_DIR as ``__main__`` and prints one JSON line
``{"seconds": wall, "cpu": process CPU}`` of that run on stdout. Nothing of the public code is
copied into this repository: it is read from PUBLIC_DIR at run time.
"""

from __future__ import annotations

import json
import logging
import os
import runpy
import sys
import time
import types


def _stub_modules() -> None:
    import tomllib

    cl = types.ModuleType("coloredlogs")
    def install(*a, logger=None, **k):  # coloredlogs.install sets INFO and a console handler
        lg = logger if logger is not None else logging.getLogger()
        lg.setLevel(logging.INFO)

    cl.install = install
    cl.BasicFormatter = logging.Formatter
    cl.DEFAULT_FIELD_STYLES = {}
    sys.modules.setdefault("coloredlogs", cl)

    tbx = types.ModuleType("tensorboardX")

    class SummaryWriter:
        def __init__(self, *a, **k):
            pass

        def add_scalar(self, *a, **k):
            pass

        def close(self):
            pass

    tbx.SummaryWriter = SummaryWriter
    sys.modules.setdefault("tensorboardX", tbx)

    fl = types.ModuleType("fasteners")

    class InterProcessLock:
        def __init__(self, path):
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    fl.InterProcessLock = InterProcessLock
    sys.modules.setdefault("fasteners", fl)

    tm = types.ModuleType("toml")

    def load(f):
        if hasattr(f, "read"):
            data = f.read()
            return tomllib.loads(data if isinstance(data, str) else data.decode())
        with open(f, "rb") as fh:
            return tomllib.load(fh)

    def dumps(obj):
        return "".join(f"{k} = {json.dumps(v, default=str)}\n" for k, v in dict(obj).items())

    def dump(obj, f):
        f.write(dumps(obj))

    tm.load, tm.dumps, tm.dump = load, dumps, dump
    sys.modules.setdefault("toml", tm)


def main() -> int:
    public, script, *args = sys.argv[1:]
    _stub_modules()
    import numpy  # noqa: F401
    import torch

    try:
        import cvxpy  # noqa: F401
    except ImportError:
        sys.modules["cvxpy"] = types.ModuleType("cvxpy")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    sys.path.insert(0, public)
    os.chdir(public)
    sys.argv = [script, *args]
    t0, c0 = time.perf_counter(), time.process_time()
    runpy.run_path(os.path.join(public, script), run_name="__main__")
    print(json.dumps({"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
