"Property-based tests (hypothesis) of the resonance simulator's invariants."
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings, strategies as st

from por_lab.phase_lock import drift_numpy, make_coupling, make_topology
from por_lab.simulator import ResonanceSimulator, _drift

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
topologies = st.sampled_from(["chain", "ring", "all"])
couplings = st.sampled_from(["sin", "sakaguchi:0.7", {"sin": [1.0, -0.4], "cos": [0.3, 0.2]}])
params = st.fixed_dictionaries({
    "chain_length": st.integers(1, 40),
    "noise_level": st.floats(0, 2),
    "lock_strength": st.floats(-2, 3),
    "frequency_spread": st.floats(0, 2),
    "topology": topologies,
    "coupling": couplings,
    "dt": st.floats(1e-3, 0.3),
    "integrator": st.sampled_from(["euler_maruyama", "heun"]),
    "replicas": st.integers(1, 3),
    "seed": st.integers(0, 2 ** 32),
    "record_every": st.integers(1, 4),
})


@SETTINGS
@given(params, st.integers(8, 60))
def test_metrics_stay_in_range(p, steps):
    sim = ResonanceSimulator(**p).run_iterations(steps)
    m = sim.metrics
    r = sim.r
    assert np.all((r >= 0) & (r <= 1 + 1e-12))
    for name, lo, hi in [("coherence", 0, 1), ("stability", 0, 1), ("por_score", 0, 1), ("phase_drift", 0, np.inf)]:
        v = np.atleast_1d(getattr(m, name)())
        assert v.shape == (p["replicas"],) and np.all(np.isfinite(v)), name
        assert np.all((v >= lo - 1e-12) & (v <= hi + 1e-12)), (name, v)


@SETTINGS
@given(params, st.lists(st.integers(0, 25), min_size=1, max_size=5))
def test_split_runs_equal_one_run(p, pieces):
    one = ResonanceSimulator(**p).run_iterations(sum(pieces))
    split = ResonanceSimulator(**p)
    for k in pieces:
        split.run_iterations(k)
    assert split.step == one.step
    assert np.array_equal(one.theta, split.theta)
    assert np.array_equal(one.phases, split.phases) and np.array_equal(one.r, split.r)
    assert np.array_equal(one.steps_recorded, split.steps_recorded)


@SETTINGS
@given(params, st.integers(1, 30))
def test_same_seed_same_result_and_replicas_independent(p, steps):
    a = ResonanceSimulator(**p).run_iterations(steps)
    b = ResonanceSimulator(**p).run_iterations(steps)
    assert np.array_equal(a.theta, b.theta) and np.array_equal(a.omega, b.omega)
    solo = ResonanceSimulator(**{**p, "replicas": 1}).run_iterations(steps)
    assert np.array_equal(solo.theta[0], a.theta[0])


@SETTINGS
@given(st.integers(1, 30), couplings, st.sampled_from(["chain", "ring", "all", "sparse"]), st.integers(0, 10 ** 6))
def test_compiled_drift_matches_numpy(n, coupling, kind, seed):
    g = np.random.default_rng(seed)
    spec = sp.random(n, n, density=0.3, random_state=seed) if kind == "sparse" else kind
    topo, c = make_topology(spec, n), make_coupling(coupling)
    th, om = g.uniform(-50, 50, n), g.normal(size=n)
    a, b = (np.ascontiguousarray(v) for v in c.coefficients())
    out, w = np.empty(n), np.zeros((4, n))
    _drift(th, om, 1.3, a, b, c.is_pure_sine, topo.code, topo.indptr, topo.indices, topo.weights, out, *w)
    np.testing.assert_allclose(out, drift_numpy(th, om, 1.3, c, topo), rtol=1e-11, atol=1e-11)


@SETTINGS
@given(st.integers(2, 30), st.floats(0.05, 1.0), st.integers(0, 1000))
def test_locked_population_has_no_drift(n, K, seed):
    "Identical, noise-free oscillators (any coupling) advance together: drift 0, locked, stability 1 in phase."
    sim = ResonanceSimulator(n, 0.0, K, topology="ring", frequency_spread=0.0, frequency_mean=0.7,
                             initial_phases="zero", seed=seed).run_iterations(40)
    m = sim.metrics
    assert m.phase_drift() < 1e-12 and m.locked() and m.coherence() > 1 - 1e-12
