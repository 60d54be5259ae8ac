"""`make test` leaves the paper and the shipped data as they were (issue 23).

The figure notebooks run as tests (nbdev-test) call `save_value` and `save_figure`; the test command sets
`$POR_LAB_ARTIFACTS` to a scratch folder, so those writes land there and `paper/` keeps what the last
`reproduce` made (with its provenance). Shown here on a real figure notebook: the hashes of every file under
`paper/` and `data/` are the same before and after, and the notebook's values and figure are in the scratch folder."""
import hashlib
import os
import subprocess
import sys
from pathlib import Path

from por_lab.artifacts import ENV_ARTIFACTS, artifact_dir
from por_lab.settings import settings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def digest(*folders) -> dict:
    return {str(p.relative_to(ROOT)): hashlib.sha256(p.read_bytes()).hexdigest()
            for f in folders for p in sorted((ROOT / f).rglob("*")) if p.is_file()}


def test_pytest_writes_artifacts_to_scratch():
    assert os.environ.get(ENV_ARTIFACTS), "the test command (or tests/conftest.py) sets a scratch folder"
    for kind in ("values", "figures"):
        assert not artifact_dir(kind).resolve().is_relative_to(settings().path(kind).resolve())


def test_notebook_tests_leave_paper_and_data_alone(tmp_path):
    before = digest("paper", "data")
    env = {**os.environ, ENV_ARTIFACTS: str(tmp_path)}
    r = subprocess.run([str(BIN / "nbdev-test"), "nbs/figures/fig_sim_adler.ipynb"], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert digest("paper", "data") == before
    assert (tmp_path / "values" / "simAdlerErr.json").is_file() and (tmp_path / "figures" / "fig_sim_adler.pdf").is_file()
