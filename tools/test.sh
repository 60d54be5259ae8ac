#!/usr/bin/env bash
# The whole test suite (called by `make test`, which first brings the environment up to date).
#  1. the library is in sync with the notebooks (nbdev-export changes nothing),
#  2. the notebooks are clean (nbdev-clean changes nothing; `tags` kept for papermill),
#  3. README.md is in sync with nbs/index.ipynb,
#  4. every notebook's tests pass (nbdev-test),
#  0. the import layers hold (import-linter contracts in pyproject.toml [tool.importlinter]),
#  5. pytest runs tests/ (pipeline, CLI, browser, security, property tests) and ends with its summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONDONTWRITEBYTECODE=1

snapshot() { find "$@" -type f \( -name '*.py' -o -name '*.ipynb' -o -name '*.md' \) -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum; }

echo "== 0. lint-imports: the layers hold (pyproject.toml [tool.importlinter])"
$BIN/lint-imports --no-cache

echo "== 1. nbdev-export: library in sync with notebooks"
before=$(snapshot por_lab)
keep=$(mktemp -d); cp -rp por_lab "$keep/"
$BIN/nbdev-export
# nbdev-export rewrites every module; give unchanged ones back their modification time so that
# numba's on-disk compile cache (keyed by source mtime) stays valid.
while IFS= read -r -d '' f; do
  cmp -s "$f" "$keep/$f" && touch -r "$keep/$f" "$f"
done < <(find por_lab -name '*.py' -print0)
rm -rf "$keep"
after=$(snapshot por_lab)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev-export changed por_lab/ -- the library was out of sync with nbs/:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi

echo "== 2. nbdev-clean: notebooks clean"
before=$(snapshot nbs)
$BIN/nbdev-clean
after=$(snapshot nbs)
if [ "$before" != "$after" ]; then
  echo "FAIL: nbdev-clean changed notebooks in nbs/ -- commit cleaned notebooks:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi

echo "== 3. README.md in sync with nbs/index.ipynb"
$BIN/por-lab readme --check

# tests never write the paper: save_value / save_figure go to a scratch folder (tests/test_hermetic.py)
export POR_LAB_ARTIFACTS=${POR_LAB_ARTIFACTS:-$(mktemp -d -t por-lab-test-artifacts-XXXXXX)}

echo "== 4. nbdev-test: the tests inside the notebooks"
$BIN/nbdev-test --n-workers 2 --timing

echo "== 5. pytest"
exec $BIN/python -m pytest tests -p no:cacheprovider "$@"
