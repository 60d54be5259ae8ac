"""The shape of the source (issue 11 §3, issue 22 §4): export cells short and each followed by its test, modules readable.

Every `#| export` cell of `nbs/` stays within EXPORT_CELL_LINES lines (its code, `#|` directives not counted) and is
followed by its test (a code cell with an `assert` or a fastcore `test_*` call before the next export cell; a cell of
imports only needs none); every module of `por_lab/` within MODULE_LINES lines. Code written before these limits is
held by a ratchet: the notebooks and modules over the limit are listed below with their size when the limit came in,
and may shrink but never grow; any other notebook or module over the limit fails. Lower a figure when you split a
cell (a stale figure is reported as a warning). `python tests/test_notebooks_shape.py` lists everything over.
"""
import ast
import re
import sys
import warnings
from collections import Counter
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXPORT_CELL_LINES = 40
MODULE_LINES = 400

# notebook (path under nbs/, no .ipynb) -> its longest export cell (lines) when the limit came in: may only go down
CELLS_OVER = {
    "multimodal/02_kernels": 47,
}
# notebook -> its export cells with no test after them when the rule came in (issue 22): may only go down
UNTESTED_OVER = {
    "00_schema": 6, "01_settings": 6, "03_jsonl": 1, "04_artifacts": 7, "07_api": 2, "bench/01_oracle": 1,
    "bench/02_clients": 1, "bench/05_tasks": 1, "bench/06_local_model": 1, "bench/07_protocols": 1,
    "bench/08_stats": 2, "cli/01_flags": 2, "cli/02_simulator": 7, "cli/03_sonate": 1, "cli/05_multimodal": 1,
    "cli/06_bench": 2, "cli/08_pipeline": 1, "cli/09_main": 1, "dashboard/01_inputs": 4, "dashboard/02_simulator": 4,
    "dashboard/03_sweeps": 3, "dashboard/04_sonate": 5, "dashboard/06_app": 3,
    "encoders/01_torch_compat": 2, "encoders/04_text": 6, "encoders/05_clip": 7, "multimodal/01_resonator": 3,
    "multimodal/02_kernels": 2, "multimodal/03_perf": 3,
    "simulator/01_coupling": 6, "simulator/02_kernels": 2,
    "simulator/03_simulator": 1, "simulator/04_metrics": 6, "simulator/05_sweep": 8, "simulator/06_perf": 4,
    "sonate/01_gravity": 1, "sonate/05_normalise": 2, "sonate/06_corpus": 1,
    "sonate/07_screen": 3, "sonate/09_refusal": 1, "sonate/11_calculator": 7, "sonate/13_receipts": 2,
    "sonate/15_receipts_perf": 2, "tlog/05_log": 5,
}
# module (path under por_lab/) -> its length (lines) when the limit came in: may only go down
MODULES_OVER = {
}


def _directives(src: str) -> list[str]:
    return [ln[2:].strip().split()[0] for ln in src.splitlines() if ln.startswith("#|") and ln[2:].strip()]


def export_cells():
    "(notebook, cell index, lines of code) of every exported cell under nbs/."
    for p in sorted((ROOT / "nbs").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in p.parts or p.name.startswith(("_", ".")):
            continue
        nb = nbformat.read(p, as_version=4)
        name = p.relative_to(ROOT / "nbs").with_suffix("").as_posix()
        for i, c in enumerate(nb.cells):
            if c.cell_type == "code" and {"export", "exports", "exporti"} & set(_directives(c.source)):
                yield name, i, sum(1 for ln in c.source.splitlines() if not ln.startswith("#|"))


_TEST = re.compile(r"^\s*(assert\b|test_\w*\(|with\s+pytest\.raises)", re.M)


def _only_imports(src: str) -> bool:
    "A cell of imports (and `__all__`) only: nothing there to test."
    try:
        body = ast.parse("\n".join(ln for ln in src.splitlines() if not ln.startswith("#|"))).body
    except SyntaxError:
        return False
    return all(isinstance(n, (ast.Import, ast.ImportFrom)) or
               (isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in n.targets)) for n in body)


def untested_export_cells():
    "(notebook, cell index) of every export cell (not imports only) that no test follows before the next export cell."
    for p in sorted((ROOT / "nbs").rglob("*.ipynb")):
        if ".ipynb_checkpoints" in p.parts or p.name.startswith(("_", ".")):
            continue
        cells = nbformat.read(p, as_version=4).cells
        name = p.relative_to(ROOT / "nbs").with_suffix("").as_posix()
        exported = [i for i, c in enumerate(cells) if c.cell_type == "code" and
                    {"export", "exports"} & set(_directives(c.source)) and not _only_imports(c.source)]
        for i, nxt in zip(exported, exported[1:] + [len(cells)]):
            if not any(c.cell_type == "code" and _TEST.search(c.source) for c in cells[i + 1:nxt]):
                yield name, i


def module_lengths():
    "(module path under por_lab/, lines) of every generated module."
    for p in sorted((ROOT / "por_lab").rglob("*.py")):
        if p.name != "_modidx.py" and "__pycache__" not in p.parts:
            yield p.relative_to(ROOT / "por_lab").as_posix(), len(p.read_text(encoding="utf-8").splitlines())


def _longest_cells() -> dict:
    out = {}
    for name, _, n in export_cells():
        out[name] = max(out.get(name, 0), n)
    return out


def _check(sizes: dict, allowed: dict, limit: int, what: str) -> list[str]:
    bad = [f"{k}: {what} of {n} lines (limit {allowed.get(k, limit)})" for k, n in sorted(sizes.items())
           if n > allowed.get(k, limit)]
    for k, cap in sorted(allowed.items()):
        now = sizes.get(k, 0)
        if now < cap:
            warnings.warn(f"{k} is down to {now} lines ({what}): lower its figure in tests/test_notebooks_shape.py "
                          f"from {cap} to {max(now, limit) if now > limit else 'nothing (remove the entry)'}")
    return bad


def test_export_cells_are_short():
    bad = _check(_longest_cells(), CELLS_OVER, EXPORT_CELL_LINES, "an export cell")
    assert not bad, "export cells over the limit (split them: one idea per cell, each followed by its test):\n" + "\n".join(bad)


def _check_untested(counts: Counter, allowed: dict) -> list[str]:
    bad = [f"{k}: {n} export cells with no test after them (allowed {allowed.get(k, 0)})" for k, n in sorted(counts.items())
           if n > allowed.get(k, 0)]
    for k, cap in sorted(allowed.items()):
        if counts.get(k, 0) < cap:
            warnings.warn(f"{k} is down to {counts.get(k, 0)} untested export cells: lower its figure in "
                          f"tests/test_notebooks_shape.py UNTESTED_OVER from {cap}")
    return bad


def test_export_cells_are_followed_by_their_test():
    bad = _check_untested(Counter(name for name, _ in untested_export_cells()), UNTESTED_OVER)
    assert not bad, "export cells with no test before the next export cell (test each idea right below it):\n" + "\n".join(bad)


def test_modules_are_short():
    bad = _check(dict(module_lengths()), MODULES_OVER, MODULE_LINES, "module")
    assert not bad, "modules over the limit (split them: one idea per module):\n" + "\n".join(bad)


def test_the_check_sees_a_long_cell(tmp_path, monkeypatch):
    "The counting really fails on a notebook with a long export cell (the check is not vacuous)."
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("#| export\n" + "\n".join(f"x{i} = {i}" for i in range(EXPORT_CELL_LINES + 1))),
                nbformat.v4.new_code_cell("#| export\nshort = 1"), nbformat.v4.new_code_cell("\n".join(["y = 1"] * 99))]
    nbformat.write(nb, nbs / "99_long.ipynb")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert list(export_cells()) == [("99_long", 0, EXPORT_CELL_LINES + 1), ("99_long", 1, 1)]
    assert _check(_longest_cells(), {}, EXPORT_CELL_LINES, "an export cell") == [
        f"99_long: an export cell of {EXPORT_CELL_LINES + 1} lines (limit {EXPORT_CELL_LINES})"]
    assert _check(_longest_cells(), {"99_long": EXPORT_CELL_LINES + 1}, EXPORT_CELL_LINES, "an export cell") == []


def test_the_check_sees_an_untested_export_cell(tmp_path, monkeypatch):
    "An export cell followed only by prose and show_doc counts as untested; imports need no test (the ratchet can fail)."
    nbs = tmp_path / "nbs"
    nbs.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("#| export\nimport math"),
                nbformat.v4.new_code_cell("#| export\ndef f(x): return x"), nbformat.v4.new_markdown_cell("`f` returns x."),
                nbformat.v4.new_code_cell("show_doc(f)"),
                nbformat.v4.new_code_cell("#| export\ndef g(x): return 2 * x"), nbformat.v4.new_code_cell("test_eq(g(2), 4)"),
                nbformat.v4.new_code_cell("#| export\ndef h(x): return x"), nbformat.v4.new_code_cell("y = h(1)\nassert y == 1")]
    nbformat.write(nb, nbs / "99_untested.ipynb")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert list(untested_export_cells()) == [("99_untested", 1)]
    counts = Counter(name for name, _ in untested_export_cells())
    assert _check_untested(counts, {}) == ["99_untested: 1 export cells with no test after them (allowed 0)"]
    assert _check_untested(counts, {"99_untested": 1}) == []


if __name__ == "__main__":
    print("export cells with no test after them:")
    for name, i in untested_export_cells():
        print(f"  nbs/{name}.ipynb cell {i}")
    print(f"export cells over {EXPORT_CELL_LINES} lines:")
    for name, i, n in export_cells():
        if n > EXPORT_CELL_LINES:
            print(f"  {n:4d}  nbs/{name}.ipynb cell {i}")
    print(f"modules over {MODULE_LINES} lines:")
    for name, n in module_lengths():
        if n > MODULE_LINES:
            print(f"  {n:4d}  por_lab/{name}")
