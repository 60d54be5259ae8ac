"""Every paper figure is readable: no two text elements overlap and no text says nan/inf.

`save_figure` records the bounding box of every text the renderer draws in `paper/figures/NAME.json`;
this test reads those sidecars (written by `por-lab reproduce`) and checks the real renderer's output
on figures made here, so the check itself is known to fail on what a reader could not read."""
import json
from pathlib import Path

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from por_lab.artifacts import artifact_dir, save_figure, text_problems
from por_lab.settings import settings

# the paper's figures (the last `reproduce`) and those this test run's notebooks made (the scratch folder)
FIGURES = sorted(p for d in {settings().path("figures"), artifact_dir("figures")} if d.is_dir() for p in d.glob("*.json"))


def problems_of(paths):
    return text_problems(json.loads(Path(paths["json"]).read_text())["texts"])


def test_check_catches_crowded_ticks_and_nan_legends(tmp_path):
    f, ax = plt.subplots()
    labels = [f"numba-parallel-{i}" for i in range(10)]
    ax.bar(labels, range(10))
    ax.plot([0, 1], [0, 1], label="Heun (slope nan)")
    ax.plot([0, 1], [1, 0], label="gain inf")
    ax.legend()
    found = problems_of(save_figure(f, "crowded", figures_dir=tmp_path))
    assert any("overlap" in p and "numba-parallel" in p for p in found), found
    assert sum("non-finite" in p for p in found) == 2, found


def test_check_passes_a_readable_figure(tmp_path):
    f, (a, b) = plt.subplots(1, 2, layout="constrained")
    a.bar(["solo", "pair", "self-cons."], [0.4, 0.5, 0.45]); a.set_ylabel("accuracy")
    b.plot([0, 1, 2], [0, 1, 4], label="theory"); b.legend(); b.set_xlabel("K")
    assert problems_of(save_figure(f, "fine", figures_dir=tmp_path)) == []


@pytest.mark.skipif(not FIGURES, reason="no paper figures yet: `por-lab reproduce` writes them")
@pytest.mark.parametrize("sidecar", FIGURES, ids=[p.stem for p in FIGURES])
def test_paper_figure_is_readable(sidecar):
    meta = json.loads(sidecar.read_text())
    assert meta.get("texts") is not None, f"{sidecar.name}: no text boxes (saved by an old save_figure?)"
    # (who made it is checked by test_pipeline: nbdev-test also runs the figure notebooks, outside the pipeline)
    who = meta["provenance"]["notebook"] or "a notebook run outside the pipeline"
    assert text_problems(meta["texts"]) == [], f"{meta['name']} ({who}) is not readable"
