"""The papers the derivations follow, one bibliography line each (cited by key)."""

from __future__ import annotations

REFERENCES = {
    "arora2019": ("S. Arora, N. Cohen, W. Hu, Y. Luo. Implicit Regularization in Deep Matrix Factorization. "
                  "Advances in Neural Information Processing Systems 32 (NeurIPS 2019). arXiv:1905.13655."),
    "arora2018": ("S. Arora, N. Cohen, E. Hazan. On the Optimization of Deep Networks: Implicit Acceleration by "
                  "Overparameterization. Proceedings of the 35th International Conference on Machine Learning "
                  "(ICML 2018). arXiv:1802.06509."),
    "chou2020": ("H.-H. Chou, C. Gieshoff, J. Maly, H. Rauhut. Gradient Descent for Deep Matrix Factorization: "
                 "Dynamics and Implicit Bias towards Low Rank. arXiv:2011.13772."),
    "soltanolkotabi2023": ("M. Soltanolkotabi, D. St\u00f6ger, C. Xie. Implicit Balancing and Regularization: "
                           "Generalization and Convergence Guarantees for Overparameterized Asymmetric Matrix "
                           "Sensing. Proceedings of the 36th Conference on Learning Theory (COLT 2023). "
                           "arXiv:2303.14244."),
    "gunasekar2017": ("S. Gunasekar, B. Woodworth, S. Bhojanapalli, B. Neyshabur, N. Srebro. Implicit "
                      "Regularization in Matrix Factorization. Advances in Neural Information Processing Systems 30 "
                      "(NIPS 2017)."),
    "hairer1993": ("E. Hairer, S. P. N\u00f8rsett, G. Wanner. Solving Ordinary Differential Equations I: Nonstiff "
                   "Problems. 2nd ed., Springer, 1993 (Sections II.8, II.9: asymptotic expansion of the global "
                   "error, extrapolation)."),
    "roy2007": ("O. Roy, M. Vetterli. The effective rank: a measure of effective dimensionality. 15th European "
                "Signal Processing Conference (EUSIPCO 2007)."),
}

#: LaTeX spellings of the non-ASCII letters above (pdflatex without inputenc tricks).
_LATEX = {"\u00f6": '\\"o', "\u00f8": "{\\o}"}


def bibliography_line(key: str, *, latex: bool = False) -> str:
    """The reference for ``key`` as one line (LaTeX-escaped with ``latex=True``)."""
    from dmf_verify.errors import InvalidArgument

    try:
        text = REFERENCES[key]
    except KeyError:
        raise InvalidArgument(f"unknown reference key {key!r}; known: {sorted(REFERENCES)}") from None
    if latex:
        for a, b in _LATEX.items():
            text = text.replace(a, b)
    return text
