"""`por-lab multimodal` and `por-lab perf multimodal` through the installed command."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run(*args):
    return subprocess.run([str(Path(sys.executable).parent / "por-lab"), *args],
                          capture_output=True, text=True, cwd=ROOT, env=ENV, timeout=300)


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    from por_lab.encoders import save_random_checkpoint
    return str(save_random_checkpoint(tmp_path_factory.mktemp("ck") / "tiny.pt", seed=3))


def test_ranks_captions_json(ckpt):
    r = run("multimodal", "--image", "data/images/cat.png", "--text", "a cat", "--text", "a rocket",
            "--text", "coffee", "--model", "por-tiny-clip", "--pretrained", ckpt, "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    rk = out["ranking"]
    assert len(rk) == 3 and {x["caption"] for x in rk} == {"a cat", "a rocket", "coffee"}
    assert [x["coherence"] for x in rk] == sorted((x["coherence"] for x in rk), reverse=True)
    assert [x["cosine"] for x in rk] == sorted((x["cosine"] for x in rk), reverse=True)  # same order
    assert all(abs(x["C(t=0)"] - x["cosine"]) < 1e-6 for x in rk)
    assert out["info"]["random_weights"] is True and out["info"]["model"] == "por-tiny-clip"


def test_table_warns_about_random_model(ckpt, capsys, monkeypatch):
    from por_lab.cli import main
    monkeypatch.chdir(ROOT)
    rc = main(["multimodal", "--image", "data/images/coffee.jpg", "--text", "a cup of coffee",
               "--model", "por-tiny-clip", "--pretrained", ckpt, "--noise-level", "0.2", "--seed", "4"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "a cup of coffee" in out.out and "stability" in out.out and "mean nothing" in out.err


@pytest.mark.parametrize("args, needle", [
    (["--image", "data/images/cat.png", "--text", "x", "--pretrained", ""], "no CLIP weights"),
    (["--image", "data/images/nope.png", "--text", "x", "--model", "por-tiny-clip", "--pretrained", "CK"], "nope.png"),
    (["--image", "data/images/cat.png", "--model", "por-tiny-clip", "--pretrained", "CK"], "--text"),
    (["--image", "data/images/cat.png", "--text", "x", "--model", "no-such-model", "--pretrained", "CK"], "unknown open_clip model"),
    (["--image", "data/images/cat.png", "--text", "x", "--model", "por-tiny-clip", "--pretrained", "CK",
      "--coupling-strength", "-1"], "coupling_strength"),
    (["--image", "data/images/cat.png", "--text", "x", "--model", "por-tiny-clip", "--pretrained", "CK",
      "--coupling", "-1"], "coupling"),                      # the seed's flag, still read
])
def test_errors_are_one_line(args, needle, ckpt, capsys, monkeypatch):
    from por_lab.cli import main
    monkeypatch.chdir(ROOT)
    rc = main(["multimodal", *[ckpt if a == "CK" else a for a in args]])
    err = capsys.readouterr().err
    assert rc == 2 and needle in err and len(err.strip().splitlines()) == 1, err


def test_perf_small():
    r = run("perf", "multimodal", "--pairs", "200", "--iterations", "20", "--dim", "64", "--no-encode")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    for k in ("planar", "full_noise0", "full_noisy"):
        assert out["resonator"][k]["cpu_s"] >= 0
    assert out["resonator"]["planar"]["peak_mb"] > 0
