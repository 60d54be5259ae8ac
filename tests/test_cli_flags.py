"""No literal defaults in `por_lab/cli/commands/` (issue 11 §4): a flag that stands for a setting gets its type, range,
help and default from `por_lab.schema` and `settings.ini` (`por_lab.cli.add_flags`), never from a number or
a copy of a setting's value typed into a command. Checked on the real `por-lab` parser, every subcommand."""
import argparse

import pytest

from por_lab.cli import build_parser
from por_lab.cli import add_flags
from por_lab.schema import SCHEMA


def _walk(parser, path=("por-lab",)):
    "(command path, action) for every flag of `parser` and of all its subcommands."
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sub in a.choices.items():
                yield from _walk(sub, path + (name,))
        elif a.option_strings and a.dest not in ("help", "version"):
            yield " ".join(path), a


def _number(v) -> bool:
    if isinstance(v, (list, tuple)):
        return any(_number(x) for x in v)
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _copies_a_setting(a) -> str | None:
    "The `[section] key` whose value `a.default` could be, when `a.dest` names a declared key."
    if a.default is None or isinstance(a.default, bool) or a.default == []:
        return None
    for section, keys in SCHEMA.items():
        if a.dest in keys:
            try:
                keys[a.dest].check(a.default)
            except (ValueError, TypeError):
                continue
            return f"[{section}] {a.dest}"
    return None


def literal_defaults(parser) -> list[str]:
    "Every flag whose default is a number literal or a copy of a setting, or a schema flag that lost its None default."
    bad = []
    for cmd, a in _walk(parser):
        flag = "/".join(a.option_strings)
        if getattr(a, "setting", None) is not None and a.default is not None:
            bad.append(f"{cmd} {flag}: made by add_flags but defaults to {a.default!r} (must be None: read at run time)")
        elif _number(a.default):
            bad.append(f"{cmd} {flag}: literal default {a.default!r} (a tunable number belongs in settings.ini: add_flags)")
        elif (where := _copies_a_setting(a)) is not None:
            bad.append(f"{cmd} {flag}: default {a.default!r} copies {where} (use add_flags)")
    return bad


def test_no_literal_defaults_in_commands():
    bad = literal_defaults(build_parser())
    assert not bad, "flags with literal defaults:\n" + "\n".join(bad)


def test_settings_flags_come_from_the_schema():
    "The areas that moved to add_flags keep their setting flags there (help says where the default lives)."
    p = build_parser()
    made = {(cmd, a.dest): a.setting for cmd, a in _walk(p) if getattr(a, "setting", None)}
    for cmd, dest, setting in [("por-lab simulate", "n_oscillators", ("simulator", "n_oscillators")),
                               ("por-lab simulate", "n_steps", ("simulator", "n_steps")),
                               ("por-lab sweep", "n_steps", ("sweep", "n_steps")),
                               ("por-lab perf simulator", "steps", ("simulator.perf", "steps")),
                               ("por-lab multimodal", "clip_model", ("multimodal", "clip_model")),
                               ("por-lab perf multimodal", "pairs", ("multimodal.perf", "pairs")),
                               ("por-lab dashboard", "port", ("dashboard", "port"))]:
        assert made.get((cmd, dest)) == setting, (cmd, dest, made.get((cmd, dest)))


@pytest.mark.parametrize("add, words", [
    (lambda p: p.add_argument("--pairs", type=int, default=10_000), "literal default 10000"),
    (lambda p: p.add_argument("--sizes", type=int, nargs="+", default=[256, 1024]), "literal default [256, 1024]"),
    (lambda p: p.add_argument("--topology", default="ring"), "copies [simulator] topology"),
    (lambda p: p.add_argument("--address", default="127.0.0.1"), "copies [dashboard] address"),
])
def test_the_check_catches_a_literal_default(add, words):
    p = argparse.ArgumentParser(prog="demo")
    sub = p.add_subparsers()
    q = sub.add_parser("x")
    add(q)
    add_flags(q, "simulator", "dt")
    q.add_argument("--format", choices=("json", "table"), default="table")   # not a setting's value: allowed
    q.add_argument("--quiet", action="store_true")
    bad = literal_defaults(p)
    assert len(bad) == 1 and words in bad[0], bad
