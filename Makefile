# The two commands a researcher needs: `make reproduce` (the main job) and `make test` (the whole suite).
# Both first bring the environment up to date (tools/bootstrap.sh: Debian packages + .venv), which
# is a no-op when nothing changed.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= quick
export OMP_NUM_THREADS ?= 1
export HF_HUB_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: env reproduce test export clean-nbs docs paper lab clean

env:
	@bash tools/bootstrap.sh

reproduce: env
	$(BIN)/por-lab reproduce --profile $(PROFILE)

test: env
	bash tools/test.sh

export: env
	$(BIN)/nbdev-export && $(BIN)/nbdev-clean

lab: env
	$(BIN)/jupyter lab nbs

clean:
	rm -rf _build _site paper/figures paper/values paper/por_paper.pdf
