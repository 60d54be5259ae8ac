"Bad input to the simulator, metrics and sweeps: a clear ValueError that names the parameter."
import math

import numpy as np
import pytest
import scipy.sparse as sp

from por_lab.simulator import Metrics
from por_lab.simulator import make_coupling, make_topology
from por_lab.simulator import ResonanceSimulator
from por_lab.simulator import load_sweep, save_sweep, sweep


@pytest.mark.parametrize("kw, words", [
    (dict(chain_length=0), "chain_length"),
    (dict(chain_length=-5), "chain_length"),
    (dict(chain_length=2.5), "chain_length"),
    (dict(noise_level=-0.1), "noise_level"),
    (dict(noise_level=math.nan), "noise_level"),
    (dict(lock_strength=math.inf), "lock_strength"),
    (dict(frequency_spread=math.nan), "frequency_spread"),
    (dict(dt=0.0), "dt"),
    (dict(dt=-0.01), "dt"),
    (dict(dt=math.nan), "dt"),
    (dict(replicas=0), "replicas"),
    (dict(record_every=0), "record_every"),
    (dict(seed=-1), "seed"),
    (dict(integrator="rk45"), "integrator"),
    (dict(topology="star"), "topology"),
    (dict(topology=sp.eye(7)), "adjacency"),
    (dict(topology=np.ones((8, 9))), "adjacency"),
    (dict(coupling="tanh"), "coupling"),
    (dict(coupling={"sin": [math.nan]}), "coupling"),
    (dict(frequencies=np.ones(3)), "frequencies"),
    (dict(frequencies=np.full(8, math.inf)), "frequencies"),
    (dict(frequency_distribution="cauchy"), "frequency_distribution"),
    (dict(frequency_sampling="sobol"), "frequency_sampling"),
    (dict(initial_phases="sync"), "initial_phases"),
    (dict(initial_phases=np.zeros((2, 8))), "initial_phases"),
])
def test_bad_simulator_arguments(kw, words):
    with pytest.raises(ValueError, match=words):
        ResonanceSimulator(**{"chain_length": 8, **kw})


def test_bad_run_length_and_metrics_before_running():
    sim = ResonanceSimulator(8)
    with pytest.raises(ValueError, match="n_steps"):
        sim.run_iterations(-1)
    with pytest.raises(ValueError, match="run_iterations"):
        sim.metrics


@pytest.mark.parametrize("window", [(0.0, 99.0), (-1.0, 5.0), (5.0, 5.0), (3.0, 2.0), 0.0, 1.5, math.nan, "last"])
def test_window_outside_the_run(window):
    m = ResonanceSimulator(8, 0.1, 0.5, dt=0.1).run_iterations(100).metrics   # t in [0, 10]
    with pytest.raises(ValueError, match="window"):
        m.coherence(window)


def test_metric_options_checked():
    m = ResonanceSimulator(8, 0.1, 0.5).run_iterations(20).metrics
    with pytest.raises(ValueError, match="weights"):
        m.por_score(weights={"coherence": 1.0})
    with pytest.raises(ValueError, match="weights"):
        m.por_score(weights={"coherence": -1.0, "stability": 1.0, "drift": 1.0})
    with pytest.raises(ValueError, match="drift_scale"):
        m.por_score(drift_scale=0.0)
    with pytest.raises(ValueError, match="tolerance"):
        m.locked(tolerance=-1.0)


def test_metrics_without_phases_say_so():
    sim = ResonanceSimulator(8, 0.1, 0.5, record_phases=False).run_iterations(20)
    assert 0 <= sim.metrics.coherence() <= 1
    with pytest.raises(ValueError, match="record_phases"):
        sim.metrics.stability()
    with pytest.raises(ValueError, match="record_phases"):
        sim.phases


def test_topology_and_coupling_helpers():
    with pytest.raises(ValueError, match="shape"):
        make_topology(sp.eye(3), 4)
    with pytest.raises(ValueError, match="max_dense"):
        make_topology("all", 10_000).adjacency()
    with pytest.raises(ValueError, match="sakaguchi"):
        make_coupling("sakaguchi:x")


def test_bad_sweeps(tmp_path):
    base = {"chain_length": 8}
    with pytest.raises(ValueError, match="lock_strenght"):
        sweep({"lock_strenght": [1.0]}, base=base, scheduler="synchronous", progress=False)
    with pytest.raises(ValueError, match="exactly one"):
        sweep(base=base, scheduler="synchronous", progress=False)
    with pytest.raises(ValueError, match="empty"):
        sweep({"lock_strength": []}, base=base, scheduler="synchronous", progress=False)
    with pytest.raises(ValueError, match="dt"):
        sweep({"dt": [0.1, -0.1]}, base=base, scheduler="synchronous", progress=False, n_steps=20, record_every=1)
    with pytest.raises(ValueError, match="record_every"):
        sweep({"lock_strength": [1.0]}, base=base, n_steps=10, record_every=10, scheduler="synchronous")
    ds = sweep({"lock_strength": [0.0, 1.0]}, base=base, n_steps=20, record_every=2, replicas=2,
               scheduler="synchronous", progress=False)
    with pytest.raises(ValueError, match="format"):
        save_sweep(ds, tmp_path / "x.nc", fmt="hdf4")
    with pytest.raises(ValueError, match="no sweep result"):
        load_sweep(tmp_path / "missing.nc")
