"""Claims of Chou, Gieshoff, Maly & Rauhut (GD on deep matrix factorization, estimation problem; docs/theory.md, docs/chou.md)."""
