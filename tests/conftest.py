import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# tests never write the paper (issue 23): save_value / save_figure go to a scratch folder unless the test command set one
import tempfile  # noqa: E402

os.environ.setdefault("POR_LAB_ARTIFACTS", tempfile.mkdtemp(prefix="por-lab-test-artifacts-"))
