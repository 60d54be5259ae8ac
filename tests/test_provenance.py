"""por_lab.pipeline (provenance): statements recorded into the project log, `por-lab receipts prove VALUE_NAME`, offline checks."""
import json
import stat

import pytest

from por_lab.pipeline import _provenance as P
from por_lab.cli import main
from por_lab.tlog import load_public_key


@pytest.fixture
def project(tmp_path, monkeypatch):
    ini = tmp_path / "override.ini"
    ini.write_text(f"[receipts]\nprovenance_log = {tmp_path}/prov/provenance.jsonl\nprovenance_key_dir = {tmp_path}/prov/keys\n")
    monkeypatch.setenv("POR_LAB_SETTINGS", str(ini))
    nb = tmp_path / "nb.ipynb"
    nb.write_text('{"cells": []}')
    return tmp_path, nb


def test_record_checkpoint_prove_cli(project, capsys):
    tmp, nb = project
    (tmp / "f.pdf").write_bytes(b"%PDF fake")
    for i in range(20):
        P.record(f"v{i}", value=i / 7, notebook=nb, parameters={"i": i}, profile="quick")
    P.record("fig_f", file=tmp / "f.pdf", notebook=nb, profile="quick")
    keys = tmp / "prov" / "keys"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700 and stat.S_IMODE((keys / "provenance.pem").stat().st_mode) == 0o600
    cp = P.checkpoint()
    assert cp["size"] == 21 and len(cp["root"]) == 64
    capsys.readouterr()
    assert main(["receipts", "prove", "fig_f"]) == 0
    d = json.loads(capsys.readouterr().out)
    pred = d["statement"]["predicate"]
    assert d["verified"] and d["index"] == 20 and pred["notebook"]["sha256"] == P.file_sha256(nb)
    assert d["statement"]["subject"][0]["digest"]["sha256"] == P.file_sha256(tmp / "f.pdf")
    assert pred["profile"] == "quick" and len(pred["dependency_lock_sha256"]) == 64 and "commit" in pred
    # a reader holding the record and the public key checks it alone
    assert P.verify_proof(d, load_public_key(d["public_key"]))["subject"][0]["name"] == "fig_f"
    (tmp / "p.json").write_text(json.dumps(d))
    assert main(["receipts", "check-proof", str(tmp / "p.json")]) == 0
    assert "ok: statement 'fig_f' is in log" in capsys.readouterr().out
    assert main(["receipts", "prove", "no_such_value"]) == 2
    assert "no value or figure named 'no_such_value'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="exactly one of"):
        P.record("x", notebook=nb)
    with pytest.raises(ValueError, match="cannot canonicalise"):
        P.record("x", value=float("inf"), notebook=nb)


def test_a_data_file_a_notebook_records_is_signed_under_its_path(project):
    "An eval log a figure notebook records (record_artifact) is signed like its values, named by its path under the project."
    from por_lab.pipeline._plan import NotebookJob
    from por_lab.pipeline._reproduce import record_provenance
    from por_lab.pipeline._run import JobResult
    from por_lab.settings import load_settings
    tmp, nb = project
    s = load_settings(root=tmp)
    log = tmp / "data" / "bench" / "logs" / "x.jsonl.gz"
    log.parent.mkdir(parents=True)
    log.write_bytes(b"eval log bytes")
    (tmp / "scratch.bin").write_bytes(b"not data")
    job = NotebookJob(name="fig", source=str(nb), output=str(tmp / "o.ipynb"), parameters={}, key="k", kernel="python3",
                      timeout=60, root=str(tmp), profile="quick")
    cp = record_provenance([job], [JobResult("fig", "ran", artifacts=[str(log), str(tmp / "scratch.bin")])], s)
    assert cp["signed_now"] == 1                                   # the data file, not the scratch file
    d = P.prove("data/bench/logs/x.jsonl.gz", root=tmp)
    assert d["statement"]["subject"][0]["digest"]["sha256"] == P.file_sha256(log)
    assert d["statement"]["predicate"]["file"] == "data/bench/logs/x.jsonl.gz"


def test_an_animation_is_signed_like_a_figure(project):
    "A GIF or WebP `save_animation` writes beside the figures (issue 28) is signed under its name, as a figure's PDF is; its sidecar is not."
    from por_lab.pipeline._plan import NotebookJob
    from por_lab.pipeline._reproduce import record_provenance
    from por_lab.pipeline._run import JobResult
    from por_lab.settings import load_settings
    tmp, nb = project
    s = load_settings(root=tmp)
    figs = s.path("figures")
    figs.mkdir(parents=True)
    for name in ("anim_a.gif", "anim_b.webp", "anim_a.json", "fig_c.pdf"):
        (figs / name).write_bytes(name.encode())
    job = NotebookJob(name="fig", source=str(nb), output=str(tmp / "o.ipynb"), parameters={}, key="k", kernel="python3",
                      timeout=60, root=str(tmp), profile="quick")
    cp = record_provenance([job], [JobResult("fig", "ran", artifacts=[str(p) for p in sorted(figs.iterdir())])], s)
    assert cp["signed_now"] == 3                                   # the two animations and the PDF, not the sidecar
    d = P.prove("anim_a", root=tmp)
    assert d["statement"]["subject"][0]["digest"]["sha256"] == P.file_sha256(figs / "anim_a.gif")
    assert d["statement"]["predicate"]["file"].endswith("anim_a.gif")
