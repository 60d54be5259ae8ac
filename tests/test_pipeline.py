"""The reproduce pipeline on a small throw-away project: real papermill, a real Dask LocalCluster,
real LaTeX and the real docs renderer."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from testproject import REPO, make_project, nb

POR_LAB = [str(Path(sys.executable).parent / "por-lab")]

TIMING = "import os, time, json, pathlib\nt0 = time.time(); time.sleep({s})\npathlib.Path({f!r}).write_text(json.dumps([os.getpid(), t0, time.time()]))"


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = make_project(tmp_path / "proj", {
        "index": nb("md:# Test project\n> a tiny project\n\nSee [the doubling page](01_double.ipynb).", "print('home')"),
        "01_double": nb("md:# Doubling\n> doubles x", "from por_lab.artifacts import save_value\ny = 2 * x\nsave_value('doubled', y)\nprint('y =', y)",
                        # a data file read at run time (not named anywhere): recorded, and a change re-runs the notebook
                        "rows = open('../data/table.csv').read().splitlines()",
                        # a scratch value outside the project is no artifact: it must not defeat the cache
                        "import tempfile\nwith tempfile.TemporaryDirectory() as d:\n    save_value('scratch', 1, values_dir=d)",
                        "import holoviews as hv\nhv.extension('bokeh', inline=True)\nhv.Curve([(0, 0), (1, y)])",
                        params="profile = 'quick'\nx = 1"),
    }, navbar={"Home": "index", "Doubling": "01_double"},
        extra_settings="[profile.quick:01_double]\nx = 21\n[profile.full:01_double]\nx = 50\n")
    (root / "data" / "table.csv").write_text("a,b\n1,2\n")
    shutil.copytree(REPO / "paper", root / "paper", ignore=shutil.ignore_patterns("figures", "values", "sections", "*.pdf"))
    monkeypatch.setenv("POR_LAB_ROOT", str(root))
    monkeypatch.chdir(root)
    return root


def add_nb(root, name, notebook):
    nbformat.write(notebook, root / "nbs" / f"{name}.ipynb")


def run(**kw):
    from por_lab.pipeline import reproduce
    kw.setdefault("paper", False)
    kw.setdefault("docs", False)
    return reproduce(progress=False, **kw)


def status(report):
    return {r.name: r.status for r in report.results}


def test_parameters_injected_and_cache(project):
    r = run(only=["01_double"])
    assert status(r) == {"01_double": "ran"}, r.table()
    executed = nbformat.read(project / "_build/executed/01_double.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "x = 21" in injected[0].source
    meta = json.loads((project / "paper/values/doubled.json").read_text())
    assert meta["value"] == 42
    prov = meta["provenance"]  # every value says what produced it
    assert prov["notebook"] == "01_double" and prov["profile"] == "quick" and prov["job_key"] and prov["notebook_hash"]
    assert prov["inputs"]["parameters"]["x"] == 21 and set(prov["inputs"]) >= {"modules", "settings", "data"}
    assert not (project / "nbs/01_double.ipynb").read_text().count("x = 21"), "the source notebook must not be touched"

    t0 = time.perf_counter()
    r = run(only=["01_double"])
    assert status(r) == {"01_double": "cached"} and time.perf_counter() - t0 < 5

    run(only=["01_double"], profile="full")  # other parameters: runs
    assert json.loads((project / "paper/values/doubled.json").read_text())["value"] == 100
    assert status(run(only=["01_double"], profile="full")) == {"01_double": "cached"}

    (project / "data/table.csv").write_text("a,b\n1,3\n")  # data changed: runs again
    assert status(run(only=["01_double"], profile="full")) == {"01_double": "ran"}

    (project / "paper/values/doubled.tex").unlink()  # an artifact went missing: runs again
    assert status(run(only=["01_double"], profile="full")) == {"01_double": "ran"}
    assert (project / "paper/values/doubled.tex").exists()

    n = nbformat.read(project / "nbs/01_double.ipynb", as_version=4)  # source changed: runs again
    n.cells.append(nbformat.v4.new_code_cell("z = 3"))
    nbformat.write(n, project / "nbs/01_double.ipynb")
    assert status(run(only=["01_double"], profile="full")) == {"01_double": "ran"}


def test_failing_notebook_reported_with_cell_others_finish(project):
    add_nb(project, "02_fails", nb("a = 1", "raise ValueError('boom in cell two')", "print('never')"))
    proc = subprocess.run(POR_LAB + ["reproduce", "--no-paper", "--no-docs", "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line = next(l for l in proc.stdout.splitlines() if l.startswith("02_fails"))
    assert "failed" in line and "In [2]" in line and "ValueError: boom in cell two" in line
    assert "_build/failed/02_fails.ipynb" in line and (project / "_build/failed/02_fails.ipynb").exists()
    for ok in ("index", "01_double"):
        assert any(l.startswith(ok) and " ran " in l for l in proc.stdout.splitlines()), proc.stdout
    assert not (project / "_build/executed/02_fails.ipynb").exists()


def test_dask_scheduler_address_runs_notebooks_in_parallel(project, tmp_path):
    """A scheduler given by address (here a real LocalCluster started by the test) runs the notebooks in parallel."""
    from distributed import LocalCluster
    for i in (2, 3):
        add_nb(project, f"0{i}_sleep", nb(TIMING.format(s=4, f=str(tmp_path / f"t{i}.json"))))
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        r = run(only=["02_sleep", "03_sleep"], scheduler=cluster.scheduler_address)
    assert set(status(r).values()) == {"ran"}, r.table()
    (p2, s2, e2), (p3, s3, e3) = (json.loads((tmp_path / f"t{i}.json").read_text()) for i in (2, 3))
    assert p2 != p3, "each notebook runs in its own kernel"
    assert max(s2, s3) < min(e2, e3), "the two notebooks must have run at the same time"


def test_interrupted_run_resumes(project, tmp_path):
    add_nb(project, "02_slow", nb(TIMING.format(s=60, f=str(tmp_path / "slow.json"))))
    proc = subprocess.Popen(POR_LAB + ["reproduce", "--no-paper", "--no-docs", "--quiet", "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    done = project / "_build/executed/01_double.ipynb"
    deadline = time.time() + 90
    while not done.exists() and time.time() < deadline:
        time.sleep(0.5)
    assert done.exists(), "the quick notebook should finish while the slow one runs"
    time.sleep(1)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    executed = sorted(p.name for p in (project / "_build/executed").iterdir() if not p.name.startswith("."))
    assert "02_slow.ipynb" not in executed, "an interrupted notebook must not look complete"
    # resume: what finished is cached, the interrupted one runs (now quickly)
    add_nb(project, "02_slow", nb(TIMING.format(s=0, f=str(tmp_path / "slow.json"))))
    r = run()
    st = status(r)
    assert st["01_double"] == "cached" and st["index"] == "cached" and st["02_slow"] == "ran", r.table()
    assert not list((project / "_build/executed").glob(".*part*")), "stale partial files are cleaned up"


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.scripts = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "script":
            self.scripts.append(a.get("src"))


def test_docs_site_renders_and_links(project):
    r = run(docs=True)
    assert r.ok, r.table()
    site = project / "_site"
    home, page = site / "nbs/index.html", site / "nbs/01_double.html"
    assert home.exists() and page.exists() and (site / "index.html").exists()
    p = Links()
    p.feed(home.read_text())
    local = [h.split("#")[0] for h in p.links if h and not h.startswith(("http", "#", "mailto"))]
    assert any(h.endswith("01_double.html") for h in local), local
    for h in local:
        if h:
            assert (home.parent / h).resolve().exists(), f"broken link {h} on the home page"
    html = page.read_text()
    assert "Doubling" in html and "y = 42" in html
    q = Links()
    q.feed(html)
    assert not [s for s in q.scripts if s and s.startswith("http")], "pages must work offline: no CDN scripts"
    assert "Bokeh" in html and "bokeh" in html.lower(), "the bokeh library is inline"
    # nothing changed: the docs stage is cached
    r2 = run(docs=True)
    assert r2.docs["renderer"] == "cached"


@pytest.mark.skipif(not shutil.which("latexmk"), reason="latexmk not installed")
def test_paper_builds_from_values(project):
    (project / "paper/por_paper.tex").write_text(r"""\documentclass{article}
\newcommand{\val}[1]{\input{values/#1.tex}\unskip}
\input{values/bibfiles.tex}
\begin{document}
Doubled: \val{doubled}. \cite{kuramoto1975}
\bibliographystyle{plain}\bibliography{\porbibfiles}
\end{document}
""")
    r = run(only=["01_double"], paper=True)
    assert r.ok and r.paper["status"] == "built", r.table()
    pdf = project / "paper/por_paper.pdf"
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert run(only=["01_double"], paper=True).paper["status"] == "cached"
    (project / "paper/values/doubled.tex").unlink()
    (project / "paper/values/doubled.json").unlink()
    from por_lab.pipeline import build_paper
    with pytest.raises(RuntimeError, match="doubled"):
        build_paper()


def test_cli_errors_are_one_line(project):
    for args, msg in ((["reproduce", "--profile", "nope"], "unknown profile"),
                      (["reproduce", "--only", "zzz"], "matches no notebook"),
                      (["reproduce", "--workers", "0", "--force", "--only", "index"], "workers must be in [1, 256], got 0")):
        p = subprocess.run(POR_LAB + args, capture_output=True, text=True)
        assert p.returncode == 2 and msg in p.stderr, (args, p.stderr)
        assert "Traceback" not in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_notebook_parameter_typo_is_caught(project):
    with open(project / "settings.ini", "a") as f:
        f.write("[profile.quick:index]\nn_osc = 3\n")
    p = subprocess.run(POR_LAB + ["reproduce", "--list"], capture_output=True, text=True)
    assert p.returncode == 2 and "n_osc" in p.stderr and "does not declare" in p.stderr


def test_only_dependent_notebooks_rerun(project):
    """The key follows the import graph, the settings sections and the data a notebook reads, nothing else."""
    add_nb(project, "02_lock", nb("from por_lab.simulator._coupling import make_coupling\nfrom por_lab.settings import settings\n"
                                  "print(settings().get('simulator', 'dt', 0.1))"))
    add_nb(project, "03_plain", nb("print('no por_lab here')"))
    assert set(status(run(workers=1)).values()) == {"ran"}
    assert set(status(run(workers=1)).values()) == {"cached"}
    with open(project / "por_lab/simulator/_coupling.py", "a") as f:  # one module edited: only its importer re-runs
        f.write("\n# edited\n")
    assert status(run(workers=1)) == {"index": "cached", "01_double": "cached", "02_lock": "ran", "03_plain": "cached"}
    with open(project / "por_lab/settings.py", "a") as f:  # a module imported (transitively) by both
        f.write("\n# edited\n")
    st = status(run(workers=1))
    assert st["01_double"] == st["02_lock"] == "ran" and st["03_plain"] == "cached", st
    with open(project / "settings.ini", "a") as f:  # a section only 02_lock names
        f.write("[simulator]\ndt = 0.2\n")
    assert status(run(workers=1)) == {"index": "cached", "01_double": "cached", "02_lock": "ran", "03_plain": "cached"}
    (project / "data/table.csv").write_text("a,b\n9,9\n")  # read by 01_double at run time only
    assert status(run(workers=1)) == {"index": "cached", "01_double": "ran", "02_lock": "cached", "03_plain": "cached"}


def test_stale_values_removed_and_no_paper_after_failure(project):
    add_nb(project, "02_vals", nb("from por_lab.artifacts import save_value\nsave_value('first', 1)"))
    r = run(workers=1)
    assert r.ok and (project / "paper/values/first.tex").exists()
    add_nb(project, "02_vals", nb("from por_lab.artifacts import save_value\nsave_value('second', 2)"))
    r = run(workers=1)
    assert not (project / "paper/values/first.tex").exists() and not (project / "paper/values/first.json").exists(), \
        "a value the current run did not produce must not be reused"
    assert (project / "paper/values/second.tex").exists() and "first.tex" in r.table()
    add_nb(project, "03_fails", nb("raise RuntimeError('broken')"))
    proc = subprocess.run(POR_LAB + ["reproduce", "--no-docs", "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 1 and "paper: not built" in proc.stdout and "03_fails" in proc.stdout, proc.stdout
    assert not (project / "paper/por_paper.pdf").exists()
    for noise in ("Kernel is running over TCP", "KeyboardInterrupt caught"):  # quiet, honest logs
        assert noise not in proc.stderr + proc.stdout, noise
