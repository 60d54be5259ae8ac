"""The benchmark client and runner against a real local HTTP server that injects faults.

Every item must end as exactly one result line: scored, or failed with the reason.
"""
import json
import socket
import time
from pathlib import Path

import pytest

from por_lab.bench.clients import Endpoint, ModelClient, OracleServer, run_async
from por_lab.bench.protocols import read_results, run_protocol
from por_lab.bench.tasks import task_from_dict

FAST = dict(backoff_base=0.005, backoff_max=0.02, retry_after_max=0.05, concurrency=4)
TASK = task_from_dict({"name": "t", "task": {"type": "arithmetic", "n_items": 6, "seed": 7}, "prompt": {"shots": 1}})
REASONS = {"timeout": "timed out after 0.3 s", "429": "HTTP 429", "500": "HTTP 500",
           "malformed": "malformed JSON in the reply", "drop": "connection error (RemoteProtocolError)"}


def _run(tmp_path, srv, name, **kw):
    out = tmp_path / f"{name}.jsonl"
    s = run_protocol(TASK, "solo", [Endpoint(srv.base_url, "oracle")], out, samples=1, cache=False, progress=False,
                     timeout=0.3, **{**FAST, **kw})
    recs, truncated = read_results(out)
    assert truncated == 0
    assert sorted(r["id"] for r in recs) == sorted(it.id for it in TASK.items)      # none lost, none duplicated
    return s, recs


@pytest.mark.parametrize("fault", list(REASONS))
def test_fault_is_retried_then_scored(tmp_path, fault):
    with OracleServer(faults=[fault, fault], hang_s=0.6, retry_after=0.01) as srv:
        s, recs = _run(tmp_path, srv, fault, max_retries=2)
    assert s.scored == 6 and s.failed == 0 and s.retries == 12
    assert all(r["status"] == "ok" and r["correct"] for r in recs)                 # the oracle is always right


@pytest.mark.parametrize("fault", list(REASONS))
def test_persistent_fault_fails_with_reason(tmp_path, fault):
    with OracleServer(faults=[fault] * 3, hang_s=0.6, retry_after=0.01) as srv:
        s, recs = _run(tmp_path, srv, fault, max_retries=1)
    assert s.scored == 0 and s.failed == 6
    assert {r["error"] for r in recs} == {f"gave up after 2 attempts: {REASONS[fault]}"}


def test_mixed_faults_and_permanent_failures(tmp_path):
    with OracleServer(faults=["timeout", "429", "500", "malformed", "drop"], hang_s=0.6, retry_after=0.01,
                      always_fail=(f"What is {TASK.items[2].question}?",)) as srv:
        s, recs = _run(tmp_path, srv, "mixed", max_retries=5)
    by_id = {r["id"]: r for r in recs}
    assert by_id[TASK.items[2].id]["status"] == "failed"
    assert by_id[TASK.items[2].id]["error"] == "gave up after 6 attempts: HTTP 500"
    assert s.scored == 5 and s.failed == 1


def test_retry_after_is_honoured(tmp_path):
    srv = OracleServer(faults=["429"], retry_after=0.4).start()
    try:
        async def go():
            async with ModelClient(Endpoint(srv.base_url, "oracle"), cache=False, max_retries=2, backoff_base=0.001,
                                   backoff_max=0.001, retry_after_max=5) as c:
                t0 = time.perf_counter()
                r = await c.complete([{"role": "user", "content": "What is 2+2?"}])
                return r, time.perf_counter() - t0
        r, waited = run_async(go())
    finally:
        srv.stop()
    assert r.text.strip() == "4" and r.attempts == 2
    assert waited >= 0.4          # it waited at least what the server asked (not the 1 ms backoff)


def test_cache_rerun_makes_no_request(tmp_path):
    with OracleServer() as srv:
        ep = Endpoint(srv.base_url, "oracle")
        kw = dict(samples=2, cache=tmp_path / "c.sqlite", progress=False)
        a = run_protocol(TASK, "solo", [ep], tmp_path / "a.jsonl", **kw)
        n = srv.requests
        b = run_protocol(TASK, "solo", [ep], tmp_path / "b.jsonl", **kw)
        assert srv.requests == n                   # the server saw nothing new
    assert a.requests == 12 and b.requests == 0 and b.cache_hits == 12
    strip = lambda p: sorted((r["id"], r["answers"]) for r in read_results(p)[0])
    assert strip(tmp_path / "a.jsonl") == strip(tmp_path / "b.jsonl")
