"""Trust receipts: known-answer tests (RFC 8032 Ed25519, RFC 8785 JCS, DSSE PAE), tampering, crash recovery, keys."""
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from por_lab.sonate import receipts as R

# RFC 8032 section 7.1, TEST 1-3: (secret key, public key, message, signature)
RFC8032 = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


@pytest.mark.parametrize("sk,pk,msg,sig", RFC8032)
def test_rfc8032_ed25519_vectors(sk, pk, msg, sig):
    from cryptography.hazmat.primitives import serialization
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(sk))
    assert key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex() == pk
    assert key.sign(bytes.fromhex(msg)).hex() == sig
    key.public_key().verify(bytes.fromhex(sig), bytes.fromhex(msg))


def test_rfc8785_examples():
    # RFC 8785 section 3.2.2 (sample input -> canonical output)
    inp = json.loads('{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
                     '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}')
    out = '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    assert R.canonical_json(inp) == out.encode("utf-8")
    # RFC 8785 section 3.2.3: property sorting by UTF-16 code units
    keys = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh", "1": "One",
            "\U0001F600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
    order = [k for k in json.loads(R.canonical_json(keys))]
    assert order == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001F600", "\ufb33"]
    # Appendix B number samples
    for x, s in [(0.0, "0"), (-0.0, "0"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
                 (9007199254740992.0, "9007199254740992"), (1e21, "1e+21"), (1e-7, "1e-7"), (0.000001, "0.000001"),
                 (295147905179352830000.0, "295147905179352830000")]:
        assert R.canonical_json(x) == s.encode(), (x, s)
    with pytest.raises(ValueError):
        R.canonical_json(float("inf"))


def test_dsse_pae_example():
    assert R.pae("http://example.com/HelloWorld", b"hello world") == b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"


SCORE = {"r_m": 0.61, "resonance_quality": "STRONG", "reality_index": 7.3, "trust_protocol": "PASS", "stakes": "low",
         "ethical_alignment": 2.9, "canvas_parity": 100.0, "golden_record": False, "flagged": False, "flags": [],
         "model_id": "m", "constitution": "c", "turn": 1}


@pytest.fixture
def log(tmp_path):
    R.generate_keypair(tmp_path / "k.pem")
    signer = R.Signer.from_file(tmp_path / "k.pem")
    with R.ReceiptLog(tmp_path / "log.jsonl", signer) as lg:
        for i in range(8):
            lg.append_score(dict(SCORE, turn=i), f"p{i}", f"r{i}")
    return tmp_path, signer, R.load_public_key(tmp_path / "k.pub")


def _lines(p):
    return Path(p).read_bytes().splitlines(keepends=True)


def _verify(tmp, lines, pub):
    (tmp / "t.jsonl").write_bytes(b"".join(lines))
    return R.verify_log(tmp / "t.jsonl", pub)


def test_clean_log_verifies(log):
    tmp, _, pub = log
    rep = R.verify_log(tmp / "log.jsonl", pub)
    assert rep.ok and rep.n_ok == 8 and rep.torn_tail is None
    assert R.verify_log(tmp / "log.jsonl", pub, expect_count=8, expect_head=rep.head).ok


@pytest.mark.parametrize("where", [0, 3, 7])
def test_flipped_byte_anywhere_is_caught(log, where):
    tmp, _, pub = log
    lines = _lines(tmp / "log.jsonl")
    env = json.loads(lines[where])
    payload = bytearray(base64.b64decode(env["payload"]))
    payload[payload.index(b'"r_m":') + 8] ^= 1          # change one digit of R_m (0.61 -> 0.71)
    env["payload"] = base64.b64encode(bytes(payload)).decode()
    lines[where] = json.dumps(env).encode() + b"\n"
    rep = _verify(tmp, lines, pub)
    assert rep.first_bad["kind"] == "bad_signature" and rep.first_bad["line"] == where + 1


def test_broken_link(log):
    tmp, signer, pub = log
    lines = _lines(tmp / "log.jsonl")
    body = json.loads(base64.b64decode(json.loads(lines[4])["payload"]))
    body["prev_hash"] = "1" * 64                         # re-signed by the key holder but off the chain
    lines[4] = signer.envelope_line(body) + b"\n"
    rep = _verify(tmp, lines, pub)
    assert rep.first_bad["kind"] == "broken_link" and rep.first_bad["line"] == 5


def test_reordering_deletion_insertion_wrong_key(log, tmp_path_factory):
    tmp, signer, pub = log
    lines = _lines(tmp / "log.jsonl")
    assert _verify(tmp, lines[:3] + [lines[4], lines[3]] + lines[5:], pub).first_bad["kind"] == "reordering"
    assert _verify(tmp, lines[:3] + lines[5:], pub).first_bad == {"line": 4, "kind": "deletion",
                                                                "detail": "receipts 3..4 are missing before receipt 5"}
    assert _verify(tmp, lines[1:], pub).first_bad["kind"] == "deletion"                     # first receipt removed
    assert _verify(tmp, lines[:5] + [lines[2]] + lines[5:], pub).first_bad["kind"] == "insertion"
    other = tmp_path_factory.mktemp("other")
    R.generate_keypair(other / "k.pem")
    with R.ReceiptLog(other / "log.jsonl", R.Signer.from_file(other / "k.pem")) as lg:
        for i in range(3):
            lg.append_score(dict(SCORE), f"p{i}", f"r{i}")
    bad = _verify(tmp, lines[:2] + [_lines(other / "log.jsonl")[2]] + lines[3:], pub)
    assert bad.first_bad["kind"] == "wrong_key" and bad.first_bad["line"] == 3
    # the whole log checked against the wrong key
    assert R.verify_log(tmp / "log.jsonl", R.load_public_key(other / "k.pub")).first_bad["kind"] == "wrong_key"
    # deletion at the end: the chain alone cannot see it (a copy without checkpoints), an expected head
    # or the log's own checkpoints can
    full = R.verify_log(tmp / "log.jsonl", pub)
    assert _verify(tmp, lines[:-1], pub).ok
    (tmp / "t.jsonl.checkpoints").write_bytes((tmp / "log.jsonl.checkpoints").read_bytes())
    assert _verify(tmp, lines[:-1], pub).first_bad["kind"] == "truncated"
    (tmp / "t.jsonl.checkpoints").unlink()
    (tmp / "t.jsonl").write_bytes(b"".join(lines[:-1]))
    assert R.verify_log(tmp / "t.jsonl", pub, expect_head=full.head).first_bad["kind"] == "deletion"


def test_hand_edited_log(log):
    tmp, _, pub = log
    lines = _lines(tmp / "log.jsonl")
    for junk in (b"\n", b"garbage\n", b'{"payload": "!!", "payloadType": "x", "signatures": []}\n', b"[1,2]\n"):
        rep = _verify(tmp, lines[:2] + [junk] + lines[2:], pub)
        assert not rep.ok and rep.first_bad["line"] == 3 and rep.first_bad["kind"] in ("malformed", "wrong_type")


def test_crash_mid_append_in_a_child_process(log):
    """A process killed in the middle of writing a line leaves a torn tail: no complete receipt is lost."""
    tmp, signer, pub = log
    full = _lines(tmp / "log.jsonl")
    code = (f"import os; fd = os.open({str(tmp / 'log.jsonl')!r}, os.O_WRONLY | os.O_APPEND);"
            f"os.write(fd, {full[0][:70]!r}); os._exit(9)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 9
    rep = R.verify_log(tmp / "log.jsonl", pub)
    assert not rep.ok and rep.n_ok == 8 and rep.torn_tail["size"] == 70       # a torn tail is an error, not "ok"
    assert rep.first_bad["kind"] == "torn_tail" and rep.first_bad["line"] == 9
    with R.ReceiptLog(tmp / "log.jsonl", signer) as lg:
        assert lg.torn_tail.size == 70 and Path(lg.torn_tail.saved_to).read_bytes() == full[0][:70]
        lg.append_score(dict(SCORE), "p", "r")
    rep = R.verify_log(tmp / "log.jsonl", pub)
    assert rep.ok and rep.n_ok == 9 and rep.torn_tail is None


def test_last_line_hand_edited_blocks_append(log):
    tmp, signer, _ = log
    with open(tmp / "log.jsonl", "ab") as f:
        f.write(b"not a receipt\n")
    with pytest.raises(ValueError, match="not a valid receipt"):
        R.ReceiptLog(tmp / "log.jsonl", signer)


def test_second_writer_is_refused(log):
    tmp, signer, _ = log
    with R.ReceiptLog(tmp / "log.jsonl", signer):
        with pytest.raises(ValueError, match="another process"):
            R.ReceiptLog(tmp / "log.jsonl", signer)


def test_key_files(tmp_path):
    kid = R.generate_keypair(tmp_path / "a" / "k.pem")
    p = tmp_path / "a" / "k.pem"
    assert (p.stat().st_mode & 0o777) == 0o600 and kid.startswith("ed25519:")
    for mode in (0o640, 0o604, 0o644, 0o666):
        os.chmod(p, mode)
        with pytest.raises(ValueError, match="chmod 600"):
            R.load_private_key(p)
    os.chmod(p, 0o600)
    assert R.key_id_of(R.load_private_key(p).public_key()) == kid
    with pytest.raises(ValueError, match="refusing to overwrite"):
        R.generate_keypair(p)
    assert R.generate_keypair(p, overwrite=True) != kid
    data = p.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 5):
        t = tmp_path / f"t{cut}.pem"
        t.write_bytes(data[:cut]); os.chmod(t, 0o600)
        with pytest.raises(ValueError, match="truncated"):
            R.load_private_key(t)
    with pytest.raises(ValueError, match="does not exist"):
        R.load_private_key(tmp_path / "missing.pem")
    pub = tmp_path / "a" / "k.pub"
    d = json.loads(pub.read_text()); d["public_key"] = d["public_key"][:10]
    pub.write_text(json.dumps(d))
    with pytest.raises(ValueError, match="cannot read public key"):
        R.load_public_key(pub)


def test_no_private_material_in_receipts_or_repr(log):
    tmp, signer, _ = log
    text = (tmp / "log.jsonl").read_bytes()
    priv = (tmp / "k.pem").read_bytes()
    assert b"PRIVATE" not in text and priv.split(b"\n")[1][:20] not in text
    assert "PRIVATE" not in repr(signer) and "ed25519:" in repr(signer)
    body = next(iter(R.ReceiptLog(tmp / "log.jsonl"))).body
    assert "prompt" not in body and "prompt_sha256" not in body and body["digest"] == "hmac-sha256"
    secret = next((tmp).glob("*.hmac")).read_bytes()                      # kept beside the key, 0600
    assert (next(tmp.glob("*.hmac")).stat().st_mode & 0o777) == 0o600
    assert body["prompt_hmac"] == R.text_digest(secret, "p0") != R.sha256_hex("p0")


def test_include_text_on_request(tmp_path):
    R.generate_keypair(tmp_path / "k.pem")
    with R.ReceiptLog(tmp_path / "l.jsonl", R.Signer.from_file(tmp_path / "k.pem")) as lg:
        lg.append_score(dict(SCORE), "the prompt", "the reply", include_text=True)
    body = next(iter(R.ReceiptLog(tmp_path / "l.jsonl"))).body
    assert body["prompt"] == "the prompt" and body["reply"] == "the reply"
