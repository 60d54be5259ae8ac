"""The built paper as a reader sees it: pages rendered to images (poppler's pdftoppm), no page of floats
queued after the references. The check is run on two small real LaTeX documents first, one that
queues its figures after the references and one that uses the paper's float rules, so it is known to
tell them apart."""
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from por_lab.pipeline import floats_after_references, pages_text, pdf_tools_available
from por_lab.settings import settings

pytestmark = pytest.mark.skipif(not (pdf_tools_available() and shutil.which("pdflatex")),
                                reason="needs pdflatex and poppler-utils (pdftotext, pdftoppm)")

DOC = r"""\documentclass[11pt]{article}
\usepackage[margin=1in]{geometry}
%(preamble)s
\begin{document}
\section{One}
%(figs)s
Text citing the figures.
\begin{thebibliography}{1}\bibitem{a} A. Author, A paper, 2000.\end{thebibliography}
\end{document}
"""
FIG = r"\begin{figure}[%s]\centering\rule{0.9\linewidth}{0.3\textheight}\caption{Panel %d.}\end{figure}" + "\n"


def build(tmp, name, preamble, place):
    tex = tmp / f"{name}.tex"
    tex.write_text(DOC % {"preamble": preamble, "figs": "".join(FIG % (place, i) for i in range(5))})
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name], cwd=tmp,
                   capture_output=True, check=True)
    return tmp / f"{name}.pdf"


def page_images(pdf, out, dpi=30):
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out / "page")], check=True)
    return sorted(out.glob("page*.png"))


def test_check_tells_queued_floats_from_placed_ones(tmp_path):
    queued = build(tmp_path, "queued", "", "p")
    assert floats_after_references(pages_text(queued)), "five page floats end up after the references"
    placed = build(tmp_path, "placed", r"\usepackage[section]{placeins}", "tbp")  # the paper's float rule
    assert floats_after_references(pages_text(placed)) == []


PAPER = settings().root / "paper" / "por_paper.pdf"
SOURCES = [*PAPER.parent.glob("*.tex"), *PAPER.parent.glob("sections/*.tex")]
STALE = PAPER.exists() and any(p.stat().st_mtime > PAPER.stat().st_mtime for p in SOURCES)


@pytest.mark.skipif(not PAPER.exists() or STALE, reason="paper/por_paper.pdf not built, or older than its LaTeX sources "
                    "(`por-lab reproduce` builds it when every notebook succeeds)")
def test_built_paper_pages(tmp_path):
    pages = pages_text(PAPER)
    assert floats_after_references(pages) == [], "a figure sits after the references, away from its text"
    images = page_images(PAPER, tmp_path)
    assert len(images) == len(pages)
    for img in images:
        lo, hi = Image.open(img).convert("L").getextrema()
        assert hi - lo > 100, f"{img.name} is blank"
    assert "Smoke run" in pages[0] or "profile full" in " ".join(pages).replace("\n", " "), \
        "a quick-profile paper says on its first page that it is a smoke run"
