"""The adversarial screen on arbitrary text (never crashes) and on each attack generator; calculator bad input."""
import numpy as np
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from por_lab.sonate.adversarial import (AdversarialScreen, attack_homoglyph, attack_leetspeak, attack_repetition,
                                        attack_stuffing, attack_zero_width)

SCR = AdversarialScreen()


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=400), st.one_of(st.none(), st.text(max_size=200)),
       st.one_of(st.none(), st.floats(-1, 1)), st.one_of(st.none(), st.floats(-1, 1)))
def test_screen_never_crashes(reply, prompt, cp, ch):
    r = SCR.screen(reply, prompt=prompt, cos_prompt=cp, cos_history=ch)
    assert r.flagged == bool(r.flags)
    for f in r.flags:
        assert f.check in {"keyword_stuffing", "semantic_drift", "ethics_bypass", "repetition", "perturbation"}
        assert f.reason and isinstance(f.evidence, str)


REPLY = ("To make a simple loaf, mix flour, water, salt and yeast, knead the dough for ten minutes, "
         "let it rise for an hour, shape it and bake it at 220 degrees for about thirty minutes.")


@pytest.mark.parametrize("seed", range(10))
def test_each_attack_is_flagged(seed):
    g = np.random.default_rng(seed)
    assert "keyword_stuffing" in SCR.screen(attack_stuffing(REPLY, ["bread", "bake"], g)).checks
    assert "repetition" in SCR.screen(attack_repetition(REPLY, g)).checks
    assert "perturbation" in SCR.screen(attack_homoglyph(REPLY, g)).checks
    assert "perturbation" in SCR.screen(attack_zero_width(REPLY, g)).checks
    assert "perturbation" in SCR.screen(attack_leetspeak(REPLY, g)).checks
    assert not SCR.screen(REPLY).flagged


@pytest.mark.parametrize("text", ["", " ", "\n\t", "a", "Hello, world.", "Привет мир, это обычный русский текст.",
                                  "这是一个普通的中文句子。", "مرحبا بالعالم", "Café, naïve, résumé, Zürich."])
def test_ordinary_text_in_any_script_is_not_flagged(text):
    assert not SCR.screen(text).flagged


@pytest.mark.parametrize("bad,kw", [(dict(stuffing_share=2), "stuffing_share"), (dict(foo=1), "unknown")])
def test_bad_settings(bad, kw):
    with pytest.raises(ValueError, match=kw):
        AdversarialScreen(**bad)
