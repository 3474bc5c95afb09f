"""Rating data in the MovieLens ``u.data`` format for completion experiments (nothing is downloaded).

``u.data`` holds one rating per line: ``user item rating timestamp`` separated by tabs (or any
whitespace), users and items numbered from 1. :func:`load_ratings` reads such a file into a
:class:`Ratings` (0-based indices, the matrix shape ``(users, items)`` from the largest ids);
:func:`ratings_problem` turns it into a completion :class:`~dmf_verify.numerics.training.Problem`
that trains on ``m`` ratings (chosen by ``seed``) and tests on the rest, like the public code's
``ml-100k`` problem (mean squared error, no ground truth).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dmf_verify.errors import InvalidArgument
from dmf_verify.numerics.validation import _show, check_int


@dataclass(frozen=True)
class Ratings:
    users: np.ndarray      # 0-based row indices
    items: np.ndarray      # 0-based column indices
    ratings: np.ndarray    # float64
    timestamps: np.ndarray
    shape: tuple[int, int]
    path: str = ""

    @property
    def count(self) -> int:
        return int(self.ratings.size)


def load_ratings(path) -> Ratings:
    """Read a ``u.data``-format file. Malformed lines, ids < 1, non-finite ratings and repeated
    (user, item) pairs are errors naming the line."""
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise InvalidArgument(f"path must be a file path (str or os.PathLike), got {_show(path)}")
    p = Path(path)
    try:
        text = p.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"cannot read rating file path={str(p)!r}: {exc}") from exc
    users, items, vals, stamps = [], [], [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 4:
            raise InvalidArgument(f"{p}:{lineno}: expected 'user item rating timestamp', got {line!r}")
        try:
            u, i, t = int(parts[0]), int(parts[1]), int(parts[3])
            r = float(parts[2])
        except ValueError:
            raise InvalidArgument(f"{p}:{lineno}: non-numeric field in {line!r}") from None
        if u < 1 or i < 1:
            raise InvalidArgument(f"{p}:{lineno}: user and item ids start at 1, got {u}, {i}")
        if not np.isfinite(r):
            raise InvalidArgument(f"{p}:{lineno}: rating must be finite, got {parts[2]!r}")
        users.append(u - 1)
        items.append(i - 1)
        vals.append(r)
        stamps.append(t)
    if not vals:
        raise InvalidArgument(f"rating file {str(p)!r} holds no ratings")
    users_a, items_a = np.asarray(users, dtype=np.intp), np.asarray(items, dtype=np.intp)
    shape = (int(users_a.max()) + 1, int(items_a.max()) + 1)
    flat = users_a * shape[1] + items_a
    uniq, counts = np.unique(flat, return_counts=True)
    if uniq.size != flat.size:
        dup = int(uniq[np.argmax(counts > 1)])
        raise InvalidArgument(f"{p}: user {dup // shape[1] + 1} rated item {dup % shape[1] + 1} more than once")
    return Ratings(users_a, items_a, np.asarray(vals, dtype=np.float64), np.asarray(stamps, dtype=np.int64),
                   shape, str(p))


def ratings_problem(data: Ratings, *, m: int, seed: int = 0):
    """A completion problem training on ``m`` ratings drawn without replacement (seeded) and testing
    on the others; the loss is the protocol's mean squared error (no 1/2)."""
    from dmf_verify.numerics.losses import CompletionLoss
    from dmf_verify.numerics.training import Problem
    from dmf_verify.numerics.validation import check_seed

    if not isinstance(data, Ratings):
        raise InvalidArgument(f"data must be a Ratings (from load_ratings), got {_show(data)}")
    m = check_int(m, "m (training ratings)", low=1, high=data.count - 1)
    rng = np.random.default_rng(check_seed(seed))
    perm = rng.permutation(data.count)
    tr, te = perm[:m], perm[m:]
    loss = CompletionLoss(data.users[tr], data.items[tr], data.ratings[tr], shape=data.shape, reduction="mean",
                          half=False)
    test = (data.users[te], data.items[te], data.ratings[te])
    return Problem("completion", max(data.shape), 0, int(m), int(seed), None, loss, rng="data", test=test)
