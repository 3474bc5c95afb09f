"""Claims of Chou, Gieshoff, Maly & Rauhut (GD on deep matrix factorization, estimation problem; THEORY.md §8)."""
