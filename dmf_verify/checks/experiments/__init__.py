"""Experiments run by ``dmf-verify experiment NAME``.

A module here defines ``EXPERIMENT = Experiment(...)`` or ``EXPERIMENTS = [...]``; the command
line discovers them, so adding an experiment needs no change to ``checks/cli.py``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Experiment:
    """``configure(parser)`` adds options; ``run(args)`` does the work and returns an exit code."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def discover() -> dict[str, Experiment]:
    import importlib
    import pkgutil
    import sys

    found: dict[str, Experiment] = {}
    pkg = sys.modules[__name__]
    for info in pkgutil.iter_modules(pkg.__path__, prefix=__name__ + "."):
        mod = importlib.import_module(info.name)
        items = []
        if hasattr(mod, "EXPERIMENT"):
            items.append(mod.EXPERIMENT)
        items += list(getattr(mod, "EXPERIMENTS", []))
        for e in items:
            found[e.name] = e
    return dict(sorted(found.items()))
