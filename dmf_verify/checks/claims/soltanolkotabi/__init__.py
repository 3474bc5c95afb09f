"""Claims of Soltanolkotabi, Stöger & Xie 2023 (over-parameterized asymmetric matrix sensing; docs/theory.md)."""
