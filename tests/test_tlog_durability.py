"""Durability of the receipt transparency log: kill -9 at random points, a full disk (RLIMIT_FSIZE), key permissions."""
import os
import random
import resource
import signal
import stat
import time

import pytest

from por_lab.sonate import receipts as R
from por_lab.tlog import TLog
from por_lab.tlog import verify_tlog

SCORE = {"r_m": 0.5, "resonance_quality": "STRONG", "flags": [], "model_id": "m", "constitution": "c"}


def _child_appends(path, key, wfd, limit=None):
    "In a forked child: append receipts forever (or until an error), reporting each returned index on `wfd`."
    try:
        if limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        log = R.ReceiptLog(path, R.Signer.from_file(key), checkpoint_every=7)
        os.write(wfd, b"R\n")
        i = 0
        while True:
            log.append_score(dict(SCORE, turn=i), f"p{i}", f"r{i}")
            os.write(wfd, b"%d\n" % (log.next_index - 1))
            i += 1
    except ValueError as e:
        os.write(wfd, b"ERR " + str(e).encode() + b"\n")
    finally:
        os._exit(0)


def _fork(path, key, limit=None):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _child_appends(path, key, w, limit)
    os.close(w)
    return pid, r


def _read_all(fd):
    out = b""
    while chunk := os.read(fd, 65536):
        out += chunk
    os.close(fd)
    return out.decode().splitlines()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_kill_9_at_random_points_loses_nothing(tmp_path):
    key = tmp_path / "keys" / "k.pem"
    R.generate_keypair(key)
    pub = R.load_public_key(key.with_suffix(".pub"))
    path = tmp_path / "log.jsonl"
    R.ReceiptLog(path, R.Signer.from_file(key)).close()        # the log exists (size-0 checkpoint) before the first kill
    rng = random.Random(13)
    acked, torn = -1, 0
    for trial in range(100):
        pid, r = _fork(path, key)
        f = os.fdopen(r, "rb", buffering=0)
        got, line = [], b""
        if trial % 5:                                 # 4 in 5: after a random number of appends; else anywhere, opening included
            want = rng.randrange(0, 16)
            while len(got) < want and (c := f.read(1)):
                line += c
                if c == b"\n":
                    got += [int(line)] if line.strip().isdigit() else []
                    line = b""
        time.sleep(rng.uniform(0.0, 0.004))           # then a random point: appending, fsyncing, checkpointing
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        rest = (line + f.read()).decode().splitlines()
        f.close()
        got += [int(x) for x in rest if x.isdigit()]
        acked = max([acked] + got)
        # before any repair: only a torn tail may be wrong, and every acknowledged receipt is there
        rep = verify_tlog(path, pub)
        assert rep.ok or rep.first_bad["kind"] == "torn_tail", (trial, rep.first_bad)
        torn += not rep.ok
        assert rep.size >= acked + 1, (trial, rep.size, acked)
    with R.ReceiptLog(path, R.Signer.from_file(key)) as lg:   # recovery: torn tail set aside, tree cache repaired
        n = lg.next_index
    full = R.verify_log(path, pub)
    assert full.ok and full.n_ok == n >= acked + 1 and full.checkpoints_checked >= 1, full.to_dict()
    ro = TLog(path)
    assert ro.size == n and ro.root().hex() == full.root
    assert acked > 100                                 # the trials did append (and were killed mid-stream)
    from por_lab.tlog import read_checkpoints
    print(f"100 kills: {n} receipts, {acked + 1} acknowledged, {torn} torn tails, {full.checkpoints_checked} checkpoints", [c.split(chr(10))[1] for c in read_checkpoints(path)])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_full_disk_one_clear_error_and_a_consistent_log(tmp_path):
    key = tmp_path / "keys" / "k.pem"
    R.generate_keypair(key)
    path = tmp_path / "log.jsonl"
    with R.ReceiptLog(path, R.Signer.from_file(key)) as lg:
        for i in range(5):
            lg.append_score(dict(SCORE), "p", "r")
    pid, r = _fork(path, key, limit=path.stat().st_size + 30_000)
    _, status = os.waitpid(pid, 0)
    lines = _read_all(r)
    errs = [x for x in lines if x.startswith("ERR")]
    assert len(errs) == 1 and "disk full or file too large" in errs[0] and "unchanged at" in errs[0], lines[-3:]
    acked = int([x for x in lines if x.isdigit()][-1])
    rep = R.verify_log(path, R.load_public_key(key.with_suffix(".pub")))
    assert rep.ok and rep.n_ok == acked + 1, rep.to_dict()      # no torn tail, nothing half-written
    with R.ReceiptLog(path, R.Signer.from_file(key)) as lg:      # and the log takes appends again
        lg.append_score(dict(SCORE), "p", "r")
    assert R.verify_log(path, R.load_public_key(key.with_suffix(".pub"))).ok


def test_keys_and_secrets_private(tmp_path):
    key = tmp_path / "keys" / "k.pem"
    R.generate_keypair(key)
    with R.ReceiptLog(tmp_path / "log.jsonl", R.Signer.from_file(key)) as lg:
        lg.append_score(dict(SCORE), "p", "r")
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    secrets = list((tmp_path / "keys").glob("*.hmac"))
    assert len(secrets) == 1 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in [key, *secrets])
    secrets[0].write_bytes(b"short"); os.chmod(secrets[0], 0o600)
    with pytest.raises(ValueError, match="not 32"):
        R.ReceiptLog(tmp_path / "log.jsonl", R.Signer.from_file(key))
