"""A throw-away por_lab project for tests that run the real pipeline: settings, the real _quarto.yml
(with a navbar for the project's own pages), a copy of the library, and notebooks built in code."""
import shutil
from pathlib import Path

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]

SETTINGS = """# por_lab lab settings for a test project
[paths]
build = _build
figures = paper/figures
values = paper/values
site = _site
data = data
[reproducibility]
seed = 1
[pipeline]
notebooks = ["index.ipynb", "[0-9]*.ipynb"]
skip = []
scheduler =
workers = {workers}
kernel = python3
cell_timeout = 120
default_profile = quick
[profile.quick]
profile = "quick"
[profile.full]
profile = "full"
"""

# the [receipts] settings of a project whose reproduce signs what it writes into its own provenance log
RECEIPTS = """[paper]
text_width = 6.5
[receipts]
origin_prefix = por-lab.test
provenance_log = _build/provenance/provenance.jsonl
provenance_key_dir = _build/provenance/keys
provenance_fsync_every = 1
provenance_payload_type = application/vnd.in-toto+json
"""


def nb(*cells, params=None):
    "A notebook from cell sources (`md:` prefix: markdown), with an optional cell tagged `parameters` first."
    out = nbformat.v4.new_notebook()
    out.metadata["kernelspec"] = {"name": "python3", "display_name": "python3", "language": "python"}
    if params is not None:
        c = nbformat.v4.new_code_cell(params)
        c.metadata["tags"] = ["parameters"]
        out.cells.append(c)
    for src in cells:
        out.cells.append(nbformat.v4.new_markdown_cell(src[3:]) if src.startswith("md:") else nbformat.v4.new_code_cell(src))
    return out


def make_project(root: Path, notebooks: dict, navbar: dict, extra_settings: str = "", workers: int = 2) -> Path:
    "Create the project at `root`: `notebooks` maps names under nbs/ to notebooks, `navbar` maps link texts to names."
    (root / "nbs").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "settings.ini").write_text(SETTINGS.format(workers=workers) + extra_settings)
    quarto = yaml.safe_load((REPO / "_quarto.yml").read_text())
    quarto["website"]["navbar"]["left"] = [{"text": t, "href": f"nbs/{n}.ipynb"} for t, n in navbar.items()]
    (root / "_quarto.yml").write_text(yaml.safe_dump(quarto))
    # a copy, so that the content key does not see edits made to the real library while tests run
    shutil.copytree(REPO / "por_lab", root / "por_lab", ignore=shutil.ignore_patterns("__pycache__"))
    for name, notebook in notebooks.items():
        nbformat.write(notebook, root / "nbs" / f"{name}.ipynb")
    return root
