"Property-based tests (hypothesis) of the resonance simulator's invariants."
import re

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings, strategies as st

from por_lab.simulator import drift_numpy, make_coupling, make_topology
from por_lab.simulator._simulator import ResonanceSimulator, _drift, largest_stable_dt

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
}).map(lambda p: {**p, "dt": min(p["dt"], 0.9 * largest_stable_dt(
    p["lock_strength"], make_coupling(p["coupling"]), make_topology(p["topology"], p["chain_length"])))})


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


# --- the PoR score and the lock tests (por_lab.simulator._metrics) --------------------------------------------------------
from por_lab.simulator import _metrics as M  # noqa: E402

phase_arrays = st.tuples(st.integers(2, 40), st.integers(4, 12), st.integers(1, 3), st.integers(0, 10 ** 6)).map(
    lambda a: np.random.default_rng(a[3]).uniform(-30, 30, (a[1], a[2], a[0])) * np.random.default_rng(a[3] + 1).uniform(0, 1))


@SETTINGS
@given(phase_arrays)
def test_score_is_the_gated_product_of_its_parts(theta):
    ds = M.phase_dataset(theta, time=np.arange(theta.shape[0]) * 0.5)
    n = theta.shape[-1]
    C, S, D = M.coherence(ds), M.stability(ds), M.phase_drift(ds)
    P = M.por_score(ds)
    expect = M.excess_coherence(C, n) * S / (1 + D / 0.01)
    np.testing.assert_allclose(P, expect, rtol=1e-12, atol=1e-15)
    assert np.all((P >= 0) & (P <= 1))
    at_chance = (C <= M.chance_coherence(n)).values
    assert np.all(P.values[at_chance] == 0) and not np.any(M.locked(ds).values[at_chance])


@SETTINGS
@given(phase_arrays, st.floats(-10, 10), st.floats(-3, 3))
def test_a_common_rotation_changes_nothing(theta, c, w):
    t = np.arange(theta.shape[0]) * 0.5
    a, b = M.phase_dataset(theta, time=t), M.phase_dataset(theta + c + w * t[:, None, None], time=t)
    for f in (M.coherence, M.stability, M.phase_drift, M.por_score):
        np.testing.assert_allclose(f(a), f(b), rtol=1e-9, atol=1e-9)
    assert np.array_equal(M.locked(a), M.locked(b))


@SETTINGS
@given(st.integers(3, 200), st.integers(1, 5), st.floats(-2, 2))
def test_travelling_wave_has_no_common_rhythm(n, q, w):
    "Neighbours locked (S = 1, D = 0, frequency-locked) but the lags go q times round the circle: r = 0, P = 0."
    if q >= n / 2:
        q = 1
    t = np.arange(20) * 0.3
    theta = 2 * np.pi * q * np.arange(n)[None, :] / n + w * t[:, None]
    ds = M.phase_dataset(theta, time=t, edges=(np.arange(n), (np.arange(n) + 1) % n))
    assert float(M.coherence(ds)) < 1e-9 and float(M.stability(ds)) > 1 - 1e-12 and float(M.phase_drift(ds)) < 1e-9
    assert float(M.por_score(ds)) == 0 and not bool(M.locked(ds)) and bool(M.frequency_locked(ds))


@SETTINGS
@given(st.integers(2, 300), st.floats(-2, 2))
def test_in_phase_identical_is_fully_resonant(n, w):
    t = np.arange(10) * 0.1
    ds = M.phase_dataset(np.tile(w * t[:, None], (1, n)) + 0.3, time=t)
    assert float(M.por_score(ds)) > 1 - 1e-9 and bool(M.locked(ds))


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10 ** 6), st.floats(0.0, 0.8), st.floats(2.0, 4.0))
def test_score_grows_across_the_transition(seed, below, above):
    "All-to-all, Gaussian frequencies: no score without a common rhythm (K < K_c), a high one well above K_c."
    s = 0.5
    Kc = s * np.sqrt(8 / np.pi)
    kw = dict(topology="all", frequency_spread=s, frequency_sampling="quantile", dt=0.05, record_every=10, seed=seed)
    lo = ResonanceSimulator(800, 0.0, below * Kc, **kw).run_iterations(2000).metrics
    hi = ResonanceSimulator(800, 0.0, above * Kc, **kw).run_iterations(2000).metrics
    assert lo.por_score(drift_scale=s) < 0.05 and hi.por_score(drift_scale=s) > 0.6 and hi.locked(drift_scale=s)


@SETTINGS
@given(st.integers(2, 64), st.integers(0, 10 ** 6))
def test_frozen_random_phases_are_not_resonant_unless_coherent_beyond_chance(n, seed):
    "Uncoupled, identical, noise-free, random phases: frequency-locked (trivially), stable, drift-free; P > 0 only if C > r_α."
    sim = ResonanceSimulator(n, 0.0, 0.0, frequency_spread=0.0, seed=seed).run_iterations(20)
    m = sim.metrics
    assert m.frequency_locked() and m.stability() > 1 - 1e-12 and m.phase_drift() < 1e-12
    assert (m.por_score() > 0) == (m.coherence() > M.chance_coherence(n)) == m.locked()


# --- guard rails: the largest stable step -------------------------------------------------------------------
@SETTINGS
@given(st.integers(1, 60), st.floats(-60, 60), st.sampled_from(["chain", "ring", "all"]), couplings,
       st.sampled_from(["euler_maruyama", "heun"]), st.floats(0.01, 3.0))
def test_unstable_steps_are_refused_with_the_largest_stable_dt(n, K, topology, coupling, integrator, factor):
    bound = largest_stable_dt(K, make_coupling(coupling), make_topology(topology, n))
    if not np.isfinite(bound):
        ResonanceSimulator(n, 0.0, K, topology=topology, coupling=coupling, dt=5.0)   # no coupling, no limit
        return
    dt = factor * bound
    kw = dict(topology=topology, coupling=coupling, integrator=integrator, dt=dt)
    if not np.isfinite(dt):   # tiny K: the bound is near the float maximum and factor * bound overflows
        with pytest.raises(ValueError, match="dt must be a finite number"):
            ResonanceSimulator(n, 0.0, K, **kw)
        return
    if factor >= 1:
        with pytest.raises(ValueError, match="largest stable dt .* = " + re.escape(f"{bound:.6g}")):
            ResonanceSimulator(n, 0.0, K, **kw)
    else:
        assert ResonanceSimulator(n, 0.0, K, **kw).max_stable_dt == bound


@SETTINGS
@given(st.integers(2, 40), st.floats(0.05, 50), st.sampled_from(["chain", "ring", "all"]),
       st.sampled_from(["euler_maruyama", "heun"]), st.sampled_from([0.9, 0.99]))
def test_below_the_bound_the_in_phase_state_is_stable_and_above_it_is_not(n, K, topology, integrator, f):
    "H = sin: the fastest mode of the in-phase state shrinks at dt = f * bound and grows at dt = bound / f."
    topo = make_topology(topology, n)
    A = topo.adjacency().toarray()
    v = np.linalg.eigh(np.diag(A.sum(1)) - A)[1][:, -1] * 1e-7
    bound = largest_stable_dt(K, make_coupling("sin"), topo)
    for dt, shrinks in ((f * bound, True), (bound / f, False)):
        s = ResonanceSimulator(n, 0.0, K, topology=topology, frequency_spread=0.0, dt=0.5 * bound, initial_phases=v,
                               integrator=integrator, record_phases=False)
        s.dt = dt
        s.run(200)
        assert (np.ptp(s.theta) < np.ptp(v)) == shrinks, (dt / bound, np.ptp(s.theta) / np.ptp(v))


# --- one vocabulary: the seed's names are aliases of the shared ones -------------------------------------------
@SETTINGS
@given(params, st.integers(1, 30))
def test_seed_names_are_aliases(p, steps):
    seed_style = ResonanceSimulator(**p).run_iterations(steps)
    shared = {"n_oscillators": p["chain_length"], "coupling_strength": p["lock_strength"], "coupling_function": p["coupling"],
              **{k: v for k, v in p.items() if k not in ("chain_length", "lock_strength", "coupling")}}
    new_style = ResonanceSimulator(**shared).run(steps)
    assert np.array_equal(seed_style.theta, new_style.theta) and seed_style.parameters() == new_style.parameters()
    assert (new_style.chain_length, new_style.lock_strength, new_style.coupling) == \
        (new_style.n_oscillators, new_style.coupling_strength, new_style.coupling_function)
    m = new_style.metrics
    assert new_style.metrics is m                                   # cached ...
    new_style.run(1)
    assert new_style.metrics is not m and new_style.metrics.ds.attrs["steps"] == m.ds.attrs["steps"] + 1   # ... until run
