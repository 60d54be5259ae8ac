"""`por-lab bench` user errors and resuming a killed run."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from por_lab.bench.clients import MissingApiKeyError, OracleServer, resolve_endpoint
from por_lab.bench.protocols import read_results
from por_lab.bench.tasks import load_task
from por_lab.cli import main


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def test_missing_api_key(monkeypatch, capsys, tmp_path):
    for k in ("POR_LAB_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(MissingApiKeyError, match=r"\$POR_LAB_API_KEY or \$OPENAI_API_KEY"):
        resolve_endpoint("gpt-x", "https://api.example.invalid/v1")
    rc, _, err = _cli(capsys, "bench", "solo", "--config", "arithmetic_easy", "--model", "gpt-x",
                      "--base-url", "https://api.example.invalid/v1", "--out", str(tmp_path / "s.jsonl"), "--quiet")
    assert rc == 2 and "no API key" in err and len(err.strip().splitlines()) == 1


def test_unreachable_endpoint(capsys, tmp_path):
    url = f"http://127.0.0.1:{_free_port()}/v1"
    rc, _, err = _cli(capsys, "bench", "solo", "--config", "arithmetic_easy", "--n-items", "3", "--base-url", url,
                      "--out", str(tmp_path / "s.jsonl"), "--quiet", "--no-cache")
    assert rc == 2 and f"cannot reach {url}" in err


def test_config_errors(capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntask: {type: arithmetic, n_items: 3}\ntemprature: 0.5\n")
    rc, _, err = _cli(capsys, "bench", "solo", "--config", str(bad), "--out", str(tmp_path / "s.jsonl"))
    assert rc == 2 and "unknown key 'temprature'" in err
    bad.write_text("task: {type: arithmetic, n_items: 3}\n")
    rc, _, err = _cli(capsys, "bench", "solo", "--config", str(bad), "--out", str(tmp_path / "s.jsonl"))
    assert rc == 2 and "missing required field 'name'" in err
    bad.write_text("name: x\ntask: {type: arithmetic, n_items: 3, digits: 0}\n")
    rc, _, err = _cli(capsys, "bench", "solo", "--config", str(bad), "--out", str(tmp_path / "s.jsonl"))
    assert rc == 2 and "digits must be an integer in [1, 6]" in err
    rc, _, err = _cli(capsys, "bench", "solo", "--config", "no_such_config", "--out", str(tmp_path / "s.jsonl"))
    assert rc == 2 and "no task config 'no_such_config'" in err and "arithmetic_easy" in err


def test_key_is_never_written(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("POR_LAB_API_KEY", "sk-very-secret-123")
    with OracleServer() as srv:
        rc, out, err = _cli(capsys, "bench", "solo", "--config", "arithmetic_easy", "--n-items", "3", "--model", "oracle",
                            "--base-url", srv.base_url, "--out", str(tmp_path / "s.jsonl"), "--cache", str(tmp_path / "c.sqlite"))
    assert rc == 0
    blobs = [out, err, (tmp_path / "s.jsonl").read_text(), (tmp_path / "c.sqlite").read_bytes().decode("latin-1")]
    assert not any("sk-very-secret" in b for b in blobs)


def test_corrupt_jsonl_line(capsys, tmp_path):
    with OracleServer() as srv:
        args = ["bench", "solo", "--config", "arithmetic_easy", "--n-items", "4", "--model", "oracle", "--base-url",
                srv.base_url, "--out", str(tmp_path / "s.jsonl"), "--no-cache", "--quiet"]
        assert _cli(capsys, *args)[0] == 0
        lines = (tmp_path / "s.jsonl").read_text().splitlines(keepends=True)
        (tmp_path / "s.jsonl").write_text(lines[0] + "{not json\n" + "".join(lines[1:]))
        rc, _, err = _cli(capsys, *args)
        assert rc == 2 and "s.jsonl:2: corrupt line" in err
        rc, _, err = _cli(capsys, "bench", "evaluate", "--solo", str(tmp_path / "s.jsonl"), "--res", str(tmp_path / "s.jsonl"))
        assert rc == 2 and "corrupt line" in err
        rc, _, err = _cli(capsys, *args, "--overwrite")
        assert rc == 0 and len(read_results(tmp_path / "s.jsonl")[0]) == 4


def test_resume_after_kill(tmp_path):
    """Kill a running `por-lab bench pair` with SIGKILL mid-run, run it again: every item exactly once."""
    out, n = tmp_path / "res.jsonl", 40
    with OracleServer(accuracy=0.7, delay_s=0.03) as srv:
        cmd = [sys.executable, "-c", "import sys; from por_lab.cli import main; sys.exit(main(sys.argv[1:]))",
               "bench", "pair", "--pair", "oracle,oracle", "--config", "arithmetic_easy", "--n-items", str(n),
               "--base-url", srv.base_url, "--out", str(out), "--no-cache", "--quiet", "--concurrency", "2", "--rounds", "1"]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 60:
            if out.exists() and out.read_text().count("\n") >= 5:
                break
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL); p.wait()
        done_before = len(read_results(out)[0])
        assert 5 <= done_before < n, done_before
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"({done_before} already done)" in r.stdout
    recs, truncated = read_results(out)
    ids = [x["id"] for x in recs]
    assert truncated == 0 and len(ids) == len(set(ids)) == n
    assert set(ids) == {it.id for it in load_task("arithmetic_easy", n_items=n).items}
    assert all(x["status"] == "ok" for x in recs)


def test_evaluate_writes_the_plot(capsys, tmp_path):
    "`bench evaluate --plot` writes the figure (PNG and PDF) from a fresh process, where no plotting extension is loaded."
    with OracleServer(accuracy=0.7) as srv:
        common = ["--config", "arithmetic_easy", "--n-items", "6", "--base-url", srv.base_url, "--quiet",
                  "--cache", str(tmp_path / "c.sqlite"), "--samples", "2", "--rounds", "1"]
        assert _cli(capsys, "bench", "solo", "--model", "oracle", "--out", str(tmp_path / "solo.jsonl"), *common)[0] == 0
        assert _cli(capsys, "bench", "pair", "--pair", "oracle,oracle", "--out", str(tmp_path / "pair.jsonl"), *common)[0] == 0
    cmd = [sys.executable, "-c", "import sys; from por_lab.cli import main; sys.exit(main(sys.argv[1:]))", "bench", "evaluate",
           "--solo", str(tmp_path / "solo.jsonl"), "--res", str(tmp_path / "pair.jsonl"), "--bootstrap", "200",
           "--plot", str(tmp_path / "gain.png")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "gain.png").stat().st_size > 10_000 and (tmp_path / "gain.pdf").stat().st_size > 0
