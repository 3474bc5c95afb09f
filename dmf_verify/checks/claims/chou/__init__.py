"""Claims of Chou, Gieshoff, Maly & Rauhut (GD on deep matrix factorization, estimation problem).

See docs/theory.md and docs/chou.md.
"""
