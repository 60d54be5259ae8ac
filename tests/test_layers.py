"""The import layers (pyproject.toml [tool.importlinter]): every module is placed in a layer, and the
contract really fails on a wrong arrow (so `make test` catches one)."""
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).parent / "lint-imports"


def _contracts():
    return {c["id"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]}


def _layer_modules(contract):
    return {m.strip().strip("()") for layer in contract["layers"] for m in layer.replace("|", ":").split(":")}


def _modules():
    for p in sorted((ROOT / "por_lab").rglob("*.py")):
        parts = p.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts)


def test_every_module_has_a_layer():
    placed = _layer_modules(_contracts()["layers"])
    free = {"por_lab", "por_lab._modidx"}  # the curated top level loads lazily (importlib), _modidx is nbdev's index
    missing = [m for m in _modules() if m not in free and not any(m == p or m.startswith(p + ".") for p in placed)]
    assert not missing, f"modules in no layer of pyproject.toml [tool.importlinter] 'layers': {missing}"


def test_top_level_imports_nothing_statically():
    "`por_lab/__init__.py` must not import submodules at import time (it would put every layer below every other)."
    src = (ROOT / "por_lab" / "__init__.py").read_text()
    assert "from ." not in src and "import por_lab." not in src


def _lint(tree: Path):
    env = {**os.environ, "PYTHONPATH": str(tree)}  # analyse the copy in `tree`, not the installed package
    return subprocess.run([str(LINT), "--no-cache", str(ROOT / "pyproject.toml")], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("low, high", [("simulator/_metrics", "por_lab.dashboard"), ("settings", "por_lab.cli"),
                                       ("cli/commands/bench", "por_lab.cli._main"), ("sonate/calculator", "por_lab.bench.stats"),
                                       ("tlog/_merkle", "por_lab.tlog._log"),
                                       ("simulator/_kernels", "por_lab.simulator._sweep"),
                                       ("dashboard/_sweeps", "por_lab.dashboard._sonate")])
def test_a_wrong_arrow_breaks_the_contract(tmp_path, low, high):
    shutil.copytree(ROOT / "por_lab", tmp_path / "por_lab", ignore=shutil.ignore_patterns("__pycache__"))
    assert _lint(tmp_path).returncode == 0, "the shipped package must keep its contracts"
    f = tmp_path / "por_lab" / f"{low}.py"
    f.write_text(f.read_text() + f"\n\ndef _wrong():\n    import {high}\n")
    r = _lint(tmp_path)
    assert r.returncode != 0 and "BROKEN" in r.stdout, r.stdout[-2000:]
    assert f"por_lab.{low.replace('/', '.')} -> {high}" in r.stdout.replace("\n", " "), r.stdout[-2000:]


def test_perf_modules_sit_beside_what_they_measure_and_only_commands_use_them():
    "A benchmark is `<module>_perf` beside its module or `perf` inside its package, and only `por_lab.cli.commands.*` imports it."
    import grimp
    graph = grimp.build_graph("por_lab")
    perf = sorted(m for m in graph.modules if m.rsplit(".", 1)[-1] == "perf" or m.endswith("_perf"))
    assert perf, "no perf modules found"
    for m in perf:
        base = m[: -len("_perf")] if m.endswith("_perf") else m.rsplit(".", 1)[0]
        assert base in graph.modules, f"{m} measures {base}, which does not exist: name it after the module it measures"
        users = {u for u in graph.find_modules_that_directly_import(m) if not u.startswith("por_lab.cli.commands.")
                 and not (u.endswith("_perf") or u.rsplit(".", 1)[-1] == "perf")}
        assert not users, f"{m} is imported by library code {sorted(users)}: benchmarks are for `por-lab perf` only"
