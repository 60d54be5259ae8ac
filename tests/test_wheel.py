"""`pip install por_lab` works outside the project (issue 30).

The wheel is built from the working tree, installed into a fresh virtual environment, and used from an empty
folder far from the checkout, as a researcher's own notebook would use it: the README's quick start, every
command's `--help`, `por-lab sonate score` with signed receipts, `por-lab simulate`. The fresh environment
installs only the wheel (`--no-deps`) and reaches the project's pinned dependencies (torch, sentence-transformers,
...) through one `.pth` line, which adds their folder to `sys.path` without running the project's own `.pth` hooks,
so the editable install of this checkout is invisible there (checked). The wheel's contents are checked against
what the library opens at run time, and its size is printed."""
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNTIME_INPUTS = [("sonate", "constitution"), ("sonate", "screen_model"), ("sonate", "refusal_model"),
                  ("bench", "tasks_dir"), ("paths", "data")]   # every setting naming a file the library reads at run time
NOT_IN_WHEEL = re.compile(r"^(paper|nbs|_build|_site|tests|tools|data)/|^por_lab/data/bench/|heldout|gaming_suite")


def _copy_tree(dst: Path) -> None:
    "The working tree's files (tracked and untracked, not ignored), links kept as links."
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for n in filter(None, names):
        src, out = ROOT / n, dst / n
        if not (src.exists() or src.is_symlink()):
            continue                     # deleted in the working tree
        out.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            out.symlink_to(os.readlink(src))
        elif src.is_file():
            shutil.copy2(src, out)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    "(python, por-lab, wheel, an empty working folder, env): the wheel installed into a fresh venv."
    tmp = tmp_path_factory.mktemp("wheel")
    _copy_tree(tmp / "src")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                        str(tmp / "dist"), str(tmp / "src")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    wheel, = (tmp / "dist").glob("por_lab-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=300)
    py = tmp / "venv" / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "project_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    away = tmp / "away"
    away.mkdir()
    env = {k: v for k, v in os.environ.items()       # nothing of this checkout leaks in: no project variables, no PYTHONPATH
           if not k.startswith("POR_LAB_") and k not in ("PYTHONPATH", "PYTHONHOME")} | {"HOME": str(tmp / "home")}
    return py, py.parent / "por-lab", wheel, away, env


def _run(installed, *args, stdin=None, timeout=300):
    py, cli, wheel, away, env = installed
    r = subprocess.run([str(a) for a in args], cwd=away, env=env, input=stdin, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, f"{' '.join(map(str, args))}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}"
    return r.stdout


def test_wheel_contents(installed, capsys):
    wheel = installed[2]
    names = zipfile.ZipFile(wheel).namelist()
    with capsys.disabled():                       # the size is part of the CI log, not only of a failure
        print(f"\nwheel {wheel.name}: {wheel.stat().st_size / 1e3:.0f} kB, {len(names)} files")
    assert not [n for n in names if NOT_IN_WHEEL.search(n)], "research-project files in the wheel"
    data = sorted(n for n in names if n.startswith("por_lab/data/"))
    assert "por_lab/settings.ini" in names and "por_lab/data/constitutions/default.json" in data
    assert {"por_lab/data/sonate/screen.npz", "por_lab/data/sonate/screen.json", "por_lab/data/sonate/refusal.npz",
            "por_lab/data/benchmarks/arithmetic_calibrated.yaml", "por_lab/data/images/captions.csv"} <= set(data)
    assert wheel.stat().st_size < 2e6, "the wheel should stay small"


def test_installed_outside_any_project(installed):
    py = installed[0]
    out = _run(installed, py, "-c", f"""
import por_lab, json
from por_lab.settings import settings, packaged_settings, package_dir
s = settings()
assert s.files == [packaged_settings()], s.files                # the package's own defaults: no project here
assert package_dir().is_relative_to({str(py.parents[1])!r}), por_lab.__file__   # the wheel, not this checkout
for sec, key in {RUNTIME_INPUTS!r}:
    p = s.input_path(sec, key)
    assert p.is_relative_to(package_dir() / "data"), (sec, key, p)
from por_lab.sonate.screen import PromptScreen
from por_lab.sonate.refusal import RefusalModel
from por_lab.bench.tasks import load_task
PromptScreen(); RefusalModel.load(); print(len(load_task("arithmetic_calibrated", n_items=3).items), "items")
""")
    assert out.strip().endswith("3 items")


def test_readme_quick_start(installed):
    "The README's Python examples, run in order from an empty folder with the installed wheel."
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Using it from Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 3 and "SymbiResonanceCalculator()" in section
    out = _run(installed, installed[0], "-c", "\n".join(blocks), timeout=600)
    assert "coherence" in out and "R_m" in out


def test_every_command_help(installed):
    py, cli = installed[0], installed[1]
    listing = _run(installed, py, "-c", """
from por_lab.cli import build_parser
import argparse
def walk(p, path):
    yield path
    for a in p._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                yield from walk(sp, path + [name])
for path in walk(build_parser(), []):
    print(" ".join(path))
""")
    commands = [line.split() for line in listing.splitlines()]
    assert ["bench", "solo"] in commands and ["receipts", "keygen"] in commands and len(commands) > 20
    for c in commands:
        assert "usage: por-lab" in _run(installed, cli, *c, "--help")


def test_score_sign_verify_simulate(installed):
    cli, away = installed[1], installed[3]
    (away / "turns.jsonl").write_text(
        '{"prompt": "How do I keep my elderly father safe from falls at home?", "reply": "Ask his doctor for a falls '
        'assessment and a medication review, fit grab rails in the bathroom and remove loose rugs."}\n')
    _run(installed, cli, "receipts", "keygen", "--key", "k.pem", "--pub", "k.pub")
    out = _run(installed, cli, "sonate", "score", "turns.jsonl", "--receipts", "r.jsonl", "--key", "k.pem", "-q")
    assert '"r_m"' in out and (away / "r.jsonl").is_file()
    assert '"ok": true' in _run(installed, cli, "receipts", "verify", "r.jsonl", "--pub", "k.pub")
    assert "coherence" in _run(installed, cli, "simulate", "--n-oscillators", "16", "--steps", "200")
