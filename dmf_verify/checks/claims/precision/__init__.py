"""Claims about numerical precision: float64 vs the mp integrator, and interval certificates."""
