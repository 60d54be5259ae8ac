"""What the browser tests share: Debian's Chromium driven by playwright (never a downloaded browser),
the flags it needs as root on a machine with no internet, and a check that a screenshot shows something."""
import io
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHOTS = REPO / "_build" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)")


def non_blank(png: bytes, min_colours: int = 12) -> bool:
    "A screenshot shows something: several colours, and no single colour covers nearly all of it."
    from PIL import Image
    im = Image.open(io.BytesIO(png)).convert("RGB")
    colours = im.getcolors(maxcolors=1 << 20) or []
    return len(colours) >= min_colours and max(c for c, _ in colours) < 0.97 * im.width * im.height
