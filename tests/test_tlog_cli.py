"""`por-lab receipts verify | checkpoint | prove | consistency` on receipt logs, and bad input: one line each, never a traceback."""
import json
import shutil

import pytest

from por_lab.cli import main
from por_lab.sonate import receipts as R

SCORE = {"r_m": 0.61, "resonance_quality": "STRONG", "trust_protocol": "PASS", "flags": [], "model_id": "m", "constitution": "c"}


@pytest.fixture
def log(tmp_path):
    key = tmp_path / "keys" / "k.pem"
    assert main(["receipts", "keygen", "--key", str(key)]) == 0
    with R.ReceiptLog(tmp_path / "log.jsonl", R.Signer.from_file(key), checkpoint_every=10) as lg:
        for i in range(25):
            lg.append_score(dict(SCORE, turn=i), f"p{i}", f"r{i}")
    return tmp_path, key, key.with_suffix(".pub")


def _run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return rc, out, err


def test_verify_checkpoint_prove_consistency(log, capsys):
    tmp, key, pub = log
    rc, out, _ = _run(capsys, "receipts", "verify", tmp / "log.jsonl", "--pub", pub)
    rep = json.loads(out)
    assert rc == 0 and rep["ok"] and rep["tree_size"] == 25 and rep["checkpoints_checked"] == 4   # 0, 10, 20, 25
    shutil.copy(tmp / "log.jsonl.checkpoint", tmp / "kept.checkpoint")
    rc, out, _ = _run(capsys, "receipts", "prove", tmp / "log.jsonl", 13, "--pub", pub)
    d = json.loads(out)
    assert rc == 0 and d["verified"] and d["size"] == 25 and len(d["proof"]) == 5 and d["entry"].startswith('{"payload"')
    (tmp / "proof.json").write_text(out)
    rc, out2, _ = _run(capsys, "receipts", "check-proof", tmp / "proof.json", "--pub", pub)
    assert rc == 0 and out2.startswith("ok: entry 13 is in log por-lab.local/log-") and "tree size 25" in out2
    (tmp / "proof.json").write_text(out.replace(d["proof"][2], d["proof"][2][::-1]))
    rc, _, err = _run(capsys, "receipts", "check-proof", tmp / "proof.json", "--pub", pub)
    assert rc == 2 and "not in the tree" in err and len(err.strip().splitlines()) == 1
    rc, out, _ = _run(capsys, "receipts", "consistency", tmp / "log.jsonl", 10, 25)
    assert rc == 0 and json.loads(out)["verified"]
    with R.ReceiptLog(tmp / "log.jsonl", R.Signer.from_file(key)) as lg:     # the log grows; an old checkpoint still holds
        lg.append_score(dict(SCORE), "p", "r")
    rc, out, _ = _run(capsys, "receipts", "checkpoint", tmp / "log.jsonl", "--key", key)
    assert rc == 0 and out.split("\n")[1] == "26"
    rc, out, _ = _run(capsys, "receipts", "verify", tmp / "log.jsonl", "--pub", pub, "--checkpoint", tmp / "kept.checkpoint")
    assert rc == 0 and json.loads(out)["ok"]


@pytest.mark.parametrize("attack", ["truncate", "reorder", "rewrite", "torn", "hand_edit"])
def test_every_attack_fails_naming_the_entry(log, capsys, attack):
    tmp, key, pub = log
    shutil.copy(tmp / "log.jsonl.checkpoint", tmp / "kept.checkpoint")
    lines = (tmp / "log.jsonl").read_bytes().splitlines(keepends=True)
    new = {"truncate": lines[:17], "reorder": lines[:5] + [lines[6], lines[5]] + lines[7:],
           "rewrite": lines[:8] + [lines[8].replace(b'"payload":"ey', b'"payload":"Ey')] + lines[9:],
           "torn": lines + [lines[0][:30]], "hand_edit": lines[:3] + [b'{"payload": "x"}\n'] + lines[4:]}[attack]
    (tmp / "log.jsonl").write_bytes(b"".join(new))
    rc, out, err = _run(capsys, "receipts", "verify", tmp / "log.jsonl", "--pub", pub, "--checkpoint", tmp / "kept.checkpoint")
    bad = json.loads(out)["first_bad"]
    assert rc == 1 and "NOT ok" in err and len(err.strip().splitlines()) == 1
    assert bad["line"] == {"truncate": 18, "reorder": 6, "rewrite": 9, "torn": 26, "hand_edit": 4}[attack], bad


def test_bad_input_one_line(log, tmp_path_factory, capsys):
    tmp, key, pub = log
    other = tmp_path_factory.mktemp("other")
    ok = main(["receipts", "keygen", "--key", str(other / "k.pem")]) == 0
    with R.ReceiptLog(other / "log.jsonl", R.Signer.from_file(other / "k.pem")) as lg:
        lg.append_score(dict(SCORE), "p", "r")
    capsys.readouterr()
    cases = [
        (["receipts", "verify", tmp / "log.jsonl", "--pub", pub, "--checkpoint", other / "log.jsonl.checkpoint"], "not from"),
        (["receipts", "verify", tmp / "log.jsonl", "--pub", other / "k.pub"], None),
        (["receipts", "prove", tmp / "log.jsonl", 25, "--pub", pub], "past the tree size 25"),
        (["receipts", "prove", tmp / "log.jsonl", "x", "--pub", pub], "must be an integer"),
        (["receipts", "consistency", tmp / "log.jsonl", 20, 99], "NEW <= 25"),
        (["receipts", "verify", tmp / "nolog.jsonl", "--pub", pub], "does not exist"),
    ]
    for argv, msg in cases:
        rc, out, err = _run(capsys, *argv)
        assert rc in (1, 2), (argv, rc)
        if msg:
            assert rc == 2 and msg in err and len(err.strip().splitlines()) == 1, (argv, err)
    key.write_bytes(key.read_bytes()[:60])                                # a truncated key file
    rc, _, err = _run(capsys, "receipts", "checkpoint", tmp / "log.jsonl", "--key", key)
    assert ok and rc == 2 and "truncated" in err and len(err.strip().splitlines()) == 1
