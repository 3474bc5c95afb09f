"""A sweep worker process (started by :mod:`dmf_verify.checks.experiments.sweep`).

Reads length-prefixed pickled tasks ``(module, sweep name, spec dict, out_dir)`` from stdin, runs
each (the run caches itself), and writes the row back on the original stdout; anything the run
prints goes to stderr. It ignores SIGINT (the parent stops it), exits on EOF, and dies with its
parent (Linux ``PR_SET_PDEATHSIG``; a watchdog thread elsewhere).
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import threading
import time


def _die_with_parent() -> None:
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


_OUT: list = []


class _Terminated(BaseException):
    pass


def _on_term(signum, frame):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise _Terminated()


def main() -> int:
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM unwinds the run first (its temporary file is removed), then ends the process by SIGTERM
    signal.signal(signal.SIGTERM, _on_term)
    try:
        return _loop()
    except _Terminated:
        os.kill(os.getpid(), signal.SIGTERM)
        return 143


def _loop() -> int:
    _OUT.append(os.fdopen(os.dup(1), "wb", buffering=0))
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out = _OUT[0]
    inp = sys.stdin.buffer
    from dmf_verify.checks.experiments.sweep import execute_named

    while True:
        hdr = inp.read(8)
        if len(hdr) < 8:
            return 0
        (n,) = struct.unpack("<Q", hdr)
        module, name, spec_d, out_dir = pickle.loads(inp.read(n))
        row = execute_named(module, name, spec_d, out_dir)
        data = pickle.dumps(row)
        out.write(struct.pack("<Q", len(data)) + data)


if __name__ == "__main__":
    sys.exit(main())
