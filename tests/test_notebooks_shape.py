"""The shape of the source (issue 11 §3): export cells short, modules readable.

Every `#| export` cell of `nbs/` stays within EXPORT_CELL_LINES lines (its code, `#|` directives not counted), each
followed by its test; every module of `por_lab/` within MODULE_LINES lines. Code written before these limits is
held by a ratchet: the notebooks and modules over the limit are listed below with their size when the limit came in,
and may shrink but never grow; any other notebook or module over the limit fails. Lower a figure when you split a
cell (a stale figure is reported as a warning). `python tests/test_notebooks_shape.py` lists everything over.
"""
import sys
import warnings
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXPORT_CELL_LINES = 40
MODULE_LINES = 400

# notebook (path under nbs/, no .ipynb) -> its longest export cell (lines) when the limit came in: may only go down
CELLS_OVER = {
    "multimodal/02_kernels": 48,
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


if __name__ == "__main__":
    print(f"export cells over {EXPORT_CELL_LINES} lines:")
    for name, i, n in export_cells():
        if n > EXPORT_CELL_LINES:
            print(f"  {n:4d}  nbs/{name}.ipynb cell {i}")
    print(f"modules over {MODULE_LINES} lines:")
    for name, n in module_lengths():
        if n > MODULE_LINES:
            print(f"  {n:4d}  por_lab/{name}")
