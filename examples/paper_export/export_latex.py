"""Write the derivation of scalar_imbalance.py as LaTeX for a paper (and a PDF when pdflatex is installed).

    python export_latex.py [--out DIR]

Writes DIR/scalar_imbalance_fragment.tex (paste into a paper: \\input{...}; needs amsmath) and
DIR/scalar_imbalance.tex (a standalone document), then runs pdflatex on the latter if found.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scalar_imbalance import derivation  # noqa: E402

from dmf_verify.theory.render import latex_document  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=".", help="output folder (default: the current one)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    d = derivation()
    if not d.verified:
        print("the derivation's exact checks FAILED:", d.checks, file=sys.stderr)
        return 1
    (out / "scalar_imbalance_fragment.tex").write_text(d.to_latex())
    (out / "scalar_imbalance.tex").write_text(latex_document([d], title="Scalar imbalance under one GD step"))
    print(f"wrote {out / 'scalar_imbalance_fragment.tex'} and {out / 'scalar_imbalance.tex'} "
          f"({len(d.checks)} exact checks hold)")
    if shutil.which("pdflatex"):
        res = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "scalar_imbalance.tex"],
                             cwd=out, capture_output=True, text=True)
        if res.returncode != 0:
            print(res.stdout[-2000:], file=sys.stderr)
            return 1
        print(f"wrote {out / 'scalar_imbalance.pdf'}")
    else:
        print("pdflatex not found: no PDF (apt-get install texlive-latex-base)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
