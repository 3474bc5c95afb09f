"""Test configuration: hypothesis profiles chosen by DMF_HYPOTHESIS_PROFILE, one BLAS/torch thread.

Profiles: ``ci`` (default: few examples, no deadline), ``dev`` (more examples) and ``thorough``
(hundreds of examples; use with ``-m ''`` to include slow tests as well).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", max_examples=12, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("DMF_HYPOTHESIS_PROFILE", "ci"))
