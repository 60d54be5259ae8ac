"""Bad inputs to the multimodal resonator and the CLIP loaders: each a clear error naming the input."""
import numpy as np
import pytest

from por_lab.multimodal import MultimodalResonator, controlled_pairs, as_unit_rows


@pytest.mark.parametrize("img, txt, exc, needle", [
    (np.ones(512), np.ones(256), ValueError, "dimension"),
    (np.ones((3, 8)), np.ones((2, 8)), ValueError, "rows"),
    (np.zeros(8), np.ones(8), ValueError, "image_emb"),
    (np.ones(8), np.r_[np.ones(7), 0.0] * 0, ValueError, "text_emb"),
    (np.ones(8), np.r_[np.ones(7), np.nan], ValueError, "NaN"),
    (np.ones(8), np.r_[np.ones(7), np.inf], ValueError, "infinite"),
    (np.ones(8, np.int64), np.ones(8), TypeError, "dtype"),
    (np.ones(8, np.complex128), np.ones(8), TypeError, "dtype"),
    (np.ones(8), np.array(["a"] * 8), TypeError, "dtype"),
    (np.ones((2, 2, 2)), np.ones(2), ValueError, "shape"),
    ("a cat", np.ones(8), TypeError, "image_emb"),
])
def test_bad_embeddings_name_the_input(img, txt, exc, needle):
    with pytest.raises(exc, match=needle):
        MultimodalResonator(img, txt)


def test_zero_row_in_batch_names_the_row():
    x = np.ones((4, 8)); x[2] = 0
    with pytest.raises(ValueError, match=r"text_emb: row\(s\) \[2\]"):
        MultimodalResonator(np.ones((4, 8)), x)


@pytest.mark.parametrize("kw, needle", [
    (dict(coupling=-0.1), "coupling"), (dict(coupling=1e9), "coupling"), (dict(noise_level=-1), "noise_level"),
    (dict(noise_level=float("nan")), "noise_level"), (dict(dt=0.0), "dt"), (dict(gate_power=0.5), "gate_power"),
    (dict(seed=-1), "seed"), (dict(seed=1.5), "seed"), (dict(window=0), "window"), (dict(method="euler"), "method"),
    (dict(method="planar", noise_level=0.1), "planar"),
])
def test_bad_parameters(kw, needle):
    with pytest.raises(ValueError, match=needle):
        MultimodalResonator(np.ones(8), np.ones(8), **kw)


@pytest.mark.parametrize("n", [-5, 2.5, True, "10"])
def test_bad_iterations(n):
    with pytest.raises(ValueError, match="iterations"):
        MultimodalResonator(np.ones(8), np.ones(8)).run(n)


def test_run_zero_does_nothing_in_both_engines():
    "run(0) means the same in every engine: nothing is advanced, and a later run goes on as if it had not been called."
    from por_lab.simulator import ResonanceSimulator
    res = MultimodalResonator(np.ones(8), np.ones(8)).run(0)
    with pytest.raises(ValueError, match="run"):
        res.coherence()
    a, b = res.run(5).run(0), MultimodalResonator(np.ones(8), np.ones(8)).run(5)
    assert a.n == b.n == 5 and np.array_equal(a.to_xarray().cosine, b.to_xarray().cosine)
    sim = ResonanceSimulator(n_oscillators=4, seed=0).run(0)
    assert sim.step == 0 and sim.run(3).step == 3


def test_reading_before_running_is_an_error():
    with pytest.raises(ValueError, match="run"):
        MultimodalResonator(np.ones(8), np.ones(8)).coherence()


def test_float32_odd_dim_and_broadcast():
    a, b = controlled_pairs([0.3, 0.6, 0.9], dim=63, seed=0)
    one = MultimodalResonator(a[0].astype(np.float32), b.astype(np.float32)).run(20)
    assert one.coherence(trajectory=True).shape == (3, 21)
    assert np.allclose(one.coherence(trajectory=True)[:, 0], a[0] @ b.T, atol=1e-6)
    r, single = as_unit_rows(np.ones(5, np.float16))
    assert r.shape == (1, 6) and single


def test_controlled_pairs_bad_cosine():
    with pytest.raises(ValueError, match="cosines"):
        controlled_pairs([1.5])


@pytest.mark.parametrize("K, dt", [(100.0, 0.01), (30.0, 0.01), (2.0, 0.5)])
def test_unstable_coupling_step_states_the_largest_stable_dt(K, dt):
    from por_lab.settings import settings
    kdt = settings().multimodal.max_coupling_dt
    with pytest.raises(ValueError, match=f"largest stable dt for this K is {kdt / K:.6g}"):
        MultimodalResonator(np.ones(8), np.ones(8), coupling_strength=K, dt=dt)
    MultimodalResonator(np.ones(8), np.ones(8), coupling=K, dt=kdt / K)      # at the limit: accepted (the seed's name)


def test_shared_vocabulary_with_the_simulator():
    "coherence is the window mean of C(t) (por_lab.simulator.coherence), the final value is final_coherence()."
    from por_lab.simulator import _metrics as M
    a, b = controlled_pairs([0.2, 0.6, 0.9], dim=64, seed=1)
    res = MultimodalResonator(a, b).run(100)
    ds = res.phase_dataset()
    assert np.allclose(res.coherence(), M.coherence(ds, res.window)) and np.allclose(res.coherence(), res.metrics.coherence())
    assert np.allclose(res.final_coherence(), res.coherence(trajectory=True)[:, -1])
    assert np.allclose(res.stability(), res.metrics.stability()) and np.allclose(res.phase_drift(), res.metrics.phase_drift())
    assert res.metrics is res.metrics and res.run(10).metrics.ds.sizes["time"] == 111   # run(n) continues: 100 + 10 iterations
    assert res.reset().run(10).metrics.ds.sizes["time"] == 11 and res.to_xarray().coherence.dims == ("time", "pair")


@pytest.mark.parametrize("kw", [dict(method="planar"), dict(method="full"), dict(noise_level=0.5, seed=3)])
@pytest.mark.parametrize("split", [(1, 59), (30, 30), (59, 1)])
def test_run_continues_like_the_simulator(kw, split):
    "run(a); run(b) is one run(a + b), bit for bit (the noise stream goes on), also for a broadcast image row; reset() starts again."
    a, b = controlled_pairs([0.05, 0.4, 0.8, 0.99], dim=32, seed=4)
    for img in (a, a[0]):
        whole = MultimodalResonator(img, b, **kw).run(sum(split))
        parts = MultimodalResonator(img, b, **kw).run(split[0]).run(split[1])
        assert parts.n == sum(split) and np.array_equal(parts.coherence(trajectory=True), whole.coherence(trajectory=True))
        assert np.array_equal(parts.to_xarray().relative_phase, whole.to_xarray().relative_phase)
        assert np.array_equal(parts.reset().run(sum(split)).coherence(trajectory=True), whole.coherence(trajectory=True))
