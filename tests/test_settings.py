"""The typed settings schema: every shipped key is declared, and a non-editable install runs outside the project
with the defaults it ships."""
import configparser
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from por_lab.schema import SCHEMA
from por_lab.settings import load_settings, settings

ROOT = Path(__file__).resolve().parent.parent


def test_every_shipped_key_is_declared():
    p = configparser.ConfigParser(interpolation=None)
    p.optionxform = str
    p.read(ROOT / "settings.ini", encoding="utf-8")
    missing = [f"[{s}] {k}" for s in p.sections() if not s.startswith("profile.") for k in p.options(s) if k not in SCHEMA.get(s, {})]
    assert not missing, f"declare these keys in nbs/00_schema.ipynb: {missing}"


def test_shipped_values_fit_their_declarations():
    s = load_settings()  # validates every value
    for sec, keys in SCHEMA.items():
        for k in keys:
            if s.parser.has_option(sec, k):
                assert getattr(s[sec], k) is not None


def test_packaged_defaults_are_the_project_file():
    pkg = ROOT / "por_lab" / "settings.ini"
    assert pkg.read_bytes() == (ROOT / "settings.ini").read_bytes()


def test_wheel_works_outside_the_project(tmp_path):
    "Build a wheel, install it (no deps: the current environment supplies them) and read settings from another folder."
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "settings.ini", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "por_lab", src / "por_lab", ignore=shutil.ignore_patterns("__pycache__"))  # follows the link
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"),
                        str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("por_lab-*.whl"))
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (target / "por_lab" / "settings.ini").is_file() and not (target / "por_lab" / "settings.ini").is_symlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import por_lab, por_lab.settings as s; cfg = s.settings(); "
            "print(por_lab.__file__); print(cfg.files[0]); print(cfg.root); print(cfg.sonate.gravity_decay, cfg.simulator.n_oscillators)")
    env = {k: v for k, v in os.environ.items() if k not in ("POR_LAB_ROOT", "POR_LAB_SETTINGS")} | {"PYTHONPATH": str(target)}
    r = subprocess.run([sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    mod, first, root, values = r.stdout.strip().splitlines()
    assert mod.startswith(str(target)) and first == str(target / "por_lab" / "settings.ini") and root == str(elsewhere)
    assert values == f"{settings().sonate.gravity_decay} {settings().simulator.n_oscillators}"
    r = subprocess.run([sys.executable, "-c", "from por_lab.cli import main; main(['--help'])"], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "COMMAND" in r.stdout, r.stderr[-2000:]


def test_a_bad_setting_is_one_line_naming_file_section_and_key(tmp_path):
    ini = tmp_path / "mine.ini"
    ini.write_text("[dashboard]\nport = 99999\n")
    exe = Path(sys.executable).parent / "por-lab"
    env = {**os.environ, "POR_LAB_SETTINGS": str(ini)}
    r = subprocess.run([str(exe), "dashboard"], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"{ini}: [dashboard] port = '99999': must be in [0, 65535]" in lines[0], lines[0]
