"`por-lab simulate`, `por-lab sweep` and `por-lab perf simulator`, run as a user runs them."
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from por_lab.simulator import load_sweep

ROOT = Path(__file__).resolve().parents[1]


def por_lab(*args, timeout=300):
    exe = Path(sys.executable).parent / "por-lab"
    return subprocess.run([str(exe), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})


def test_simulate_json_has_every_metric():
    r = por_lab("simulate", "--n-oscillators", "32", "--coupling-strength", "0.8", "--topology", "ring",
                "--replicas", "2", "--steps", "120", "--format", "json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["parameters"]["n_oscillators"] == 32 and out["parameters"]["coupling_strength"] == 0.8 and out["parameters"]["topology"] == "ring"
    m = out["metrics"]
    for k in ("coherence", "stability", "phase_drift", "por_score", "locked"):
        assert len(m[k]) == 2, k
    assert all(0 <= v <= 1 for v in m["coherence"])


def test_simulate_table_and_output_file(tmp_path):
    r = por_lab("simulate", "--chain-length", "16", "--steps", "50", "--output", str(tmp_path / "run.nc"))
    assert r.returncode == 0, r.stderr
    assert "coherence" in r.stdout and "por_score" in r.stdout
    ds = load_sweep(tmp_path / "run.nc")
    assert ds.theta.dims == ("time", "replica", "oscillator") and ds.sizes["time"] == 51


def test_sweep_yaml_grid_on_a_local_cluster(tmp_path):
    grid = tmp_path / "grid.yaml"
    grid.write_text("grid:\n  lock_strength: [0.0, 1.0]\nbase:\n  chain_length: 32\n  topology: ring\n"
                    "replicas: 2\nn_steps: 100\nrecord_every: 10\n")
    out = tmp_path / "sweep.zarr"
    r = por_lab("sweep", "--grid-file", str(grid), "--grid", "noise_level=0:0.2:2", "--workers", "1",
                "--output", str(out))
    assert r.returncode == 0, r.stderr
    assert "sweep" in r.stderr            # the progress bar
    ds = load_sweep(out)
    assert ds.coherence.dims == ("coupling_strength", "noise_level", "replica")   # the grid file's seed name, swept as K
    assert list(ds.noise_level.values) == [0.0, 0.2]


@pytest.mark.parametrize("args, words", [
    (["simulate", "--n-oscillators", "0"], "n_oscillators"),
    (["simulate", "--chain-length", "0"], "n_oscillators"),          # the seed's flag, still read
    (["simulate", "--dt", "nan"], "dt"),
    (["simulate", "--topology", "star"], "topology"),
    (["sweep", "--grid", "lock_strength"], "NAME=V1"),
    (["sweep", "--grid", "bogus=1,2", "--scheduler", "synchronous"], "bogus"),
    (["sweep", "--grid-file", "/nonexistent.yaml"], "does not exist"),
    (["sweep"], "--grid"),
])
def test_user_errors_are_one_line(args, words, capsys):
    from por_lab.cli import main          # in-process: the same parser and error handling as the command
    assert main(args) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_user_error_from_the_installed_command():
    r = por_lab("simulate", "--noise-level", "-1")
    assert r.returncode == 2 and "noise_level" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_perf_simulator_prints_json():
    r = por_lab("perf", "simulator", "--parts", "kernels", "--sizes", "256", "--steps", "20", "--repeats", "1")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert res["same_model_max_abs_diff_noise_free"] < 1e-9
    assert {(k["topology"], k["n"]) for k in res["kernels"]} == {("ring", 256), ("all", 256)}
    assert all(k["kernel_Msteps_per_s"] > 0 and k["numpy_Msteps_per_s"] > 0 for k in res["kernels"])


def test_shipped_example_grid_runs(capsys):
    from por_lab.cli import main
    assert main(["sweep", "--grid-file", str(ROOT / "data/sweeps/ring_coupling.yaml"), "--steps", "40",
                 "--record-every", "4", "--replicas", "1", "--scheduler", "synchronous", "--quiet",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 6 * 3 and {"coupling_strength", "noise_level", "coherence", "por_score"} <= set(rows[0])
