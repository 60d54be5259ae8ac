"""The docs site in a real browser (headless Debian chromium through playwright): pages load, sidebar links work,
HoloViews plots are drawn and equations are typeset by KaTeX served from site_libs/katex, with every request beyond
localhost refused (as offline); pages that still try to reach the internet are named in a warning. A figure page
shows the provenance of each figure below it: verified (leaf, checkpoint, digest, the command that proves it) for a
signed figure, "not signed" for one the provenance log does not hold. A throw-away project is rendered by the real pipeline (as tests/test_pipeline.py does); the real _site is
checked too when it has been built. Screenshots go to _build/screenshots/."""
import functools
import http.server
import os
import re
import threading
import warnings
from pathlib import Path

import pytest

from testproject import RECEIPTS, make_project, nb

from browser import ARGS, CHROMIUM, REPO, SHOTS, needs_chromium, non_blank

pytestmark = needs_chromium


def serve(folder: Path):
    "Serve `folder` over HTTP on a free localhost port (a thread); returns (base URL, server)."
    handler = functools.partial(type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *a: None}),
                                directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{httpd.server_address[1]}/", httpd


@pytest.fixture(scope="module")
def small_site(tmp_path_factory):
    "A throw-away project with an equation and a plot, executed and rendered by `reproduce` (real papermill and renderer)."
    root = make_project(tmp_path_factory.mktemp("docsproj") / "proj", {
        "index": nb("md:# Docs test\n> a tiny project\n\nSee [the waves page](01_waves.ipynb).", "print('home')"),
        "01_waves": nb("md:# Waves\n> an order parameter and a plot\n\nThe order parameter is\n"
                       "$$r = \\left|\\frac{1}{N}\\sum_{j=1}^{N} e^{i\\theta_j}\\right| \\in [0, 1],$$\n"
                       "with phases $\\theta_j$ in radians.",
                       "import numpy as np, holoviews as hv\nhv.extension('bokeh', inline=True)\n"
                       "t = np.linspace(0, 10, 200)\nhv.Curve((t, np.sin(t)), 'time', 'signal').opts(width=500, height=250)"),
    }, navbar={"Home": "index", "Waves": "01_waves"}, workers=1)
    old = {k: os.environ.get(k) for k in ("POR_LAB_ROOT",)}
    cwd = os.getcwd()
    os.environ["POR_LAB_ROOT"] = str(root)
    os.chdir(root)
    try:
        from por_lab.pipeline import reproduce
        r = reproduce(paper=False, docs=True, progress=False, workers=1)
        assert r.ok, r.table()
    finally:
        os.chdir(cwd)
        for k, v in old.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return root / "_site"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(tmp_path_factory.mktemp("chromium-docs")), executable_path=CHROMIUM,
                                                    headless=True, args=ARGS, viewport={"width": 1300, "height": 1000})
        ctx.external, ctx.requested = [], []

        def route(r):
            url = r.request.url
            host = re.match(r"^[a-z]+://([^/:]+)", url)
            if host and host.group(1) not in ("127.0.0.1", "localhost"):
                ctx.external.append(url)
                return r.abort()
            ctx.requested.append(url)
            return r.continue_()
        ctx.route("**/*", route)
        yield ctx
        ctx.close()


@pytest.fixture
def page(browser):
    p = browser.new_page()
    p.set_default_timeout(30_000)
    p.errors = []
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    yield p
    p.close()


def sidebar_links(page) -> list[str]:
    hrefs = page.locator("#quarto-sidebar a.sidebar-link[href]").evaluate_all("els => els.map(e => e.href)")
    return list(dict.fromkeys(h.split("#")[0] for h in hrefs if h.endswith(".html") or ".html#" in h))


def check_equations(page, browser):
    page.locator(".katex").first.wait_for(state="visible")
    assert page.locator(".katex-display").count() >= 1 or page.locator(".katex").count() >= 1
    assert not page.locator("span.math:not(:has(.katex))").count(), "an equation was left as raw TeX"
    assert any("/site_libs/katex/katex.min.js" in u for u in browser.requested), "KaTeX is not served from the site"
    assert any("/site_libs/katex/fonts/" in u for u in browser.requested), "KaTeX fonts are not served from the site"


def check_plot(page, shot: str):
    canvas = page.locator(".bk-Canvas").first
    canvas.wait_for(state="visible", timeout=60_000)
    page.wait_for_timeout(300)
    assert non_blank(canvas.screenshot()), "the plot is blank"
    page.screenshot(path=SHOTS / shot, full_page=True)


REAL_SITE = REPO / "_site"
HAVE_REAL_SITE = (REAL_SITE / "nbs" / "index.html").exists()


@pytest.mark.skipif(HAVE_REAL_SITE and not os.environ.get("POR_LAB_TEST_SMALL_SITE"),
                    reason="the real _site is built and tested below; POR_LAB_TEST_SMALL_SITE=1 renders the throw-away project too")
def test_small_site_pages_links_plot_and_equation(small_site, browser, page):
    base, httpd = serve(small_site)
    try:
        resp = page.goto(base, wait_until="load")
        assert resp.ok
        page.wait_for_url("**/nbs/index.html")   # the root redirects to the home page
        assert "Docs test" in page.title() or page.locator("h1").first.inner_text().startswith("Docs test")
        links = sidebar_links(page)
        waves = [h for h in links if h.endswith("01_waves.html")]
        assert waves, links
        page.locator("#quarto-sidebar a.sidebar-link[href$='01_waves.html']").first.click()
        page.wait_for_url("**/01_waves.html")
        assert "Waves" in page.locator("h1").first.inner_text()
        check_equations(page, browser)
        check_plot(page, "docs_small_waves.png")   # drawn although every request beyond localhost was refused
        assert not page.errors, page.errors
        if browser.external:
            warnings.warn(f"the rendered page requests files from the internet (refused here, as offline): {sorted(set(browser.external))[:4]}")
    finally:
        httpd.shutdown()


@pytest.mark.skipif(not HAVE_REAL_SITE, reason="the real docs site is not built (por-lab reproduce)")
def test_real_site_every_sidebar_link_loads(browser, page):
    base, httpd = serve(REAL_SITE)
    try:
        page.goto(base + "nbs/index.html", wait_until="load")
        page.screenshot(path=SHOTS / "docs_home.png")
        links = sidebar_links(page)
        assert len(links) >= 5, links
        broken, math_pages, plot_pages = [], [], []
        offline = {}
        for url in links:
            n = len(browser.external)
            r = page.goto(url, wait_until="domcontentloaded")
            if len(browser.external) > n:
                offline[url.split("/_site/")[-1].replace(base, "")] = sorted(set(browser.external[n:]))
            if r is None or not r.ok or not page.locator("h1").count():
                broken.append(url)
                continue
            if page.locator("span.math").count():
                math_pages.append(url)
            if page.evaluate("() => typeof window.Bokeh !== 'undefined'"):
                plot_pages.append(url)
        assert not broken, f"sidebar links that do not load: {broken}"
        if offline:  # these requests were refused (as offline) and the checks below still pass; say which pages try
            by_url = {}
            for pg, urls in offline.items():
                for u in urls:
                    by_url.setdefault(u.split("?")[0], []).append(pg)
            warnings.warn(f"{len(offline)} of {len(links)} docs pages request files from the internet (refused here, as offline; "
                          f"the checks still pass): " + "; ".join(f"{u} from {len(p)} page(s), e.g. {p[0]}" for u, p in by_url.items()))
        assert math_pages, "no page with equations was found"
        page.goto(math_pages[0], wait_until="load")
        check_equations(page, browser)
        page.screenshot(path=SHOTS / ("docs_equations_" + Path(math_pages[0]).stem + ".png"))
        assert plot_pages, "no page with a Bokeh plot was found"
        page.goto(plot_pages[0], wait_until="load")
        check_plot(page, "docs_plot_" + Path(plot_pages[0]).stem + ".png")
        assert not page.errors, page.errors
    finally:
        httpd.shutdown()




@pytest.fixture(scope="module")
def provenance_site(tmp_path_factory):
    "A project whose figure page saves one figure (signed by `reproduce`) and names one it never writes (not signed)."
    root = make_project(tmp_path_factory.mktemp("provproj") / "proj", {
        "index": nb("md:# Provenance test\n> figures with their provenance", "print('home')"),
        "01_fig": nb("md:# Figures\n> one signed figure, one not",
                     "import numpy as np, holoviews as hv\nfrom por_lab.artifacts import save_figure\nhv.extension('bokeh', inline=True)\n"
                     "fig = hv.Curve((np.arange(50), np.sin(np.arange(50) / 5)), 'x', 'y').opts(width=500, height=220)\nfig",
                     'save_figure(fig, "fig_signed", width=0.5)',
                     'if False:  # a figure only another profile makes: never written in this run, so never signed\n'
                     '    save_figure(fig, "fig_unsigned", width=0.5)'),
    }, navbar={"Home": "index", "Figures": "01_fig"}, extra_settings=RECEIPTS, workers=1)
    old, cwd = os.environ.get("POR_LAB_ROOT"), os.getcwd()
    os.environ["POR_LAB_ROOT"] = str(root)
    os.chdir(root)
    try:
        from por_lab.pipeline import reproduce
        from por_lab.pipeline import checkpoint, file_sha256
        r = reproduce(paper=False, docs=True, progress=False, workers=1)   # runs, signs what it wrote, builds the site
        assert r.ok, r.table()
        cp = checkpoint(root)
    finally:
        os.chdir(cwd)
        os.environ.pop("POR_LAB_ROOT", None) if old is None else os.environ.__setitem__("POR_LAB_ROOT", old)
    assert r.docs["figures"] == {"fig_signed": "verified", "fig_unsigned": "unsigned"}, r.docs
    import base64, json
    log = root / "_build" / "provenance" / "provenance.jsonl"
    names = [json.loads(base64.b64decode(json.loads(l)["payload"]))["subject"][0]["name"] for l in log.read_bytes().splitlines()]
    return root / "_site", {"index": names.index("fig_signed"), "size": cp["size"], "root": cp["root"],
                            "sha256": file_sha256(root / "paper" / "figures" / "fig_signed.pdf")}


def test_figure_page_shows_verified_provenance_and_an_unsigned_note(provenance_site, browser, page):
    site, signed = provenance_site
    base, httpd = serve(site)
    try:
        page.goto(base + "nbs/01_fig.html", wait_until="load")
        canvas = page.locator(".bk-Canvas").first
        canvas.wait_for(state="visible", timeout=60_000)
        ok = page.locator(".por-provenance[data-figure='fig_signed']")
        ok.wait_for(state="visible")
        text = ok.inner_text()
        assert ok.get_attribute("data-status") == "verified", text
        for part in (f"leaf {signed['index']}", f"tree size {signed['size']}", signed["root"][:16], signed["sha256"][:16],
                     "nbs/01_fig.ipynb", "profile quick", "por-lab receipts prove fig_signed"):
            assert part in text, (part, text)
        assert ok.locator("code[title]").first.get_attribute("title") == signed["sha256"]   # the full digest, to copy
        no = page.locator(".por-provenance[data-figure='fig_unsigned']")
        assert no.get_attribute("data-status") == "unsigned" and "not signed" in no.inner_text()
        assert "tree size" not in no.inner_text() and "receipts prove" not in no.inner_text()   # no claim for it
        assert canvas.bounding_box()["y"] < ok.bounding_box()["y"] < no.bounding_box()["y"]   # below the plot, in page order
        ok.scroll_into_view_if_needed()
        page.screenshot(path=SHOTS / "docs_provenance.png", full_page=True)
        assert not page.errors, page.errors
    finally:
        httpd.shutdown()
