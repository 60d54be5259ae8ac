"""Authoring aid: turn a jupytext percent-format script into a clean notebook in nbs/ (or back).

    python tools/pct2nb.py --to-py nbs/simulator/03_simulator.ipynb   # -> /tmp/03_simulator.py, to edit
    python tools/pct2nb.py /tmp/03_simulator.py nbs/simulator/03_simulator.ipynb
    python tools/pct2nb.py /tmp/02_errors.py                          # -> nbs/02_errors.ipynb (no folder given)

The notebook in nbs/ stays the source of truth; the .py file is a scratch copy, never committed.
"""
import json, subprocess, sys
from pathlib import Path

import jupytext

KERNEL = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}}


def to_nb(src: Path, dst: Path):
    nb = jupytext.read(src, fmt="py:percent")
    nb.metadata = dict(KERNEL)
    for c in nb.cells:
        c.metadata = {k: v for k, v in c.metadata.items() if k == "tags"}
    dst.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(nb, dst, fmt="ipynb")
    subprocess.run([str(Path(sys.executable).parent / "nbdev-clean"), "--fname", str(dst)], check=True)
    print(f"wrote {dst}")


def to_py(src: Path, dst: Path):
    nb = jupytext.read(src)
    nb.metadata.pop("jupytext", None)
    jupytext.write(nb, dst, fmt="py:percent")
    print(f"wrote {dst}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--to-py":
        src = Path(args[1]); to_py(src, Path(args[2]) if len(args) > 2 else Path("/tmp") / (src.stem + ".py"))
    else:
        src = Path(args[0]); to_nb(src, Path(args[1]) if len(args) > 1 else Path("nbs") / (src.stem + ".ipynb"))
