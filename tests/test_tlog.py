"""por_lab.tlog and por_lab.tlog._note: RFC 9162 Merkle proofs against the published vectors and a second implementation (pymerkle),
the file-backed tree, C2SP signed notes and checkpoints."""
import base64
import json
import random
from pathlib import Path

import pytest

from por_lab.tlog import _merkle as T
from por_lab.tlog import _note as N

VEC = json.loads((Path(__file__).parent / "test_tlog_vectors.json").read_text())
LEAVES = [bytes.fromhex(h) for h in VEC["leaf_inputs_hex"]]
ROOTS = [bytes.fromhex(h) for h in VEC["root_hashes_hex"]]
b = base64.b64decode


def _sub(leaves):
    return lambda lo, hi: T.mth(leaves[lo:hi])


def test_roots_of_every_prefix():
    ts_roots = [T.mth(LEAVES[:n]) for n in range(9)]
    assert ts_roots == ROOTS


@pytest.mark.parametrize("v", VEC["inclusion"], ids=lambda v: v["file"].split("testdata/")[1])
def test_inclusion_vectors(v):
    """transparency-dev/merkle testdata/inclusion: every happy path verifies and is what we generate; every mangled one fails."""
    args = (v["leafIdx"], v["treeSize"], b(v["leafHash"]), [b(p) for p in v["proof"] or []], b(v["root"]))
    if v["wantErr"]:
        with pytest.raises(T.ProofError):
            T.verify_inclusion(*args)
    else:
        T.verify_inclusion(*args)
        i, n = v["leafIdx"], v["treeSize"]
        if n <= 8 and args[2] == T.leaf_hash(LEAVES[i]):
            assert T.inclusion_proof(i, n, _sub(LEAVES)) == args[3] and ROOTS[n] == args[4]


@pytest.mark.parametrize("v", VEC["consistency"], ids=lambda v: v["file"].split("testdata/")[1])
def test_consistency_vectors(v):
    args = (v["size1"], v["size2"], b(v["root1"]), b(v["root2"]), [b(p) for p in v["proof"] or []])
    if v["wantErr"]:
        with pytest.raises(T.ProofError):
            T.verify_consistency(*args)
    else:
        T.verify_consistency(*args)
        if 0 < v["size1"] < v["size2"] <= 8:
            assert T.consistency_proof(v["size1"], v["size2"], _sub(LEAVES)) == args[4]


def test_vectors_cover_the_mangled_cases():
    kinds = {v["desc"] for v in VEC["inclusion"] + VEC["consistency"] if v["wantErr"]}
    assert len(VEC["inclusion"]) + len(VEC["consistency"]) == 196 and len(kinds) > 15


def _ell(m, n):
    k = T._split(n) if n > 1 else 0
    return 0 if n == 1 else ((n - 1).bit_length() if m < k else 1 + _ell(m - k, n - k))


def test_file_tree_against_reference_and_pymerkle(tmp_path):
    pymerkle = pytest.importorskip("pymerkle")
    rng = random.Random(0)
    data = [rng.randbytes(rng.randrange(0, 40)) for _ in range(300)]
    ts = T.TreeStore(tmp_path / "t")
    pm = pymerkle.InmemoryTree(algorithm="sha256")
    for i, d in enumerate(data, start=1):
        ts.append(T.leaf_hash(d)); pm.append_entry(d)
        assert ts.root() == pm.get_root(i) == T.mth(data[:i]) if i <= 64 or i % 37 == 0 else ts.root() == pm.get_root(i)
    for _ in range(200):
        n = rng.randrange(1, 301); m = rng.randrange(n)
        p = T.inclusion_proof(m, n, ts.subtree)
        assert len(p) == _ell(m, n) <= (n - 1).bit_length()
        T.verify_inclusion(m, n, T.leaf_hash(data[m]), p, pm.get_root(n))
        # pymerkle's own proof of the same leaf carries the same sibling hashes
        assert set(p) <= set(bytes.fromhex(x) if isinstance(x, str) else x for x in pm.prove_inclusion(m + 1, n).serialize()["path"])
        o = rng.randrange(1, n + 1)
        T.verify_consistency(o, n, pm.get_root(o), pm.get_root(n), T.consistency_proof(o, n, ts.subtree))
        if o < n:
            with pytest.raises(T.ProofError):
                T.verify_consistency(o, n, pm.get_root(o), T.mth(data[1:n + 1]), T.consistency_proof(o, n, ts.subtree))
    with pytest.raises(T.ProofError, match="past the tree size"):
        T.verify_inclusion(300, 300, T.leaf_hash(data[0]), [], ts.root())
    with pytest.raises(T.ProofError):
        T.inclusion_proof(300, 300, ts.subtree)


def test_proof_size_is_ceil_log2_for_the_left_part():
    # ceil(log2 n) hashes for every leaf of the perfect left subtree; fewer (never more) for the rest
    for n in list(range(1, 130)) + [10**6]:
        k = T._split(n) if n > 1 else 1
        for m in {0, k - 1, n - 1}:
            assert _ell(m, n) <= (n - 1).bit_length()
        assert _ell(0, n) == (n - 1).bit_length()
    assert (10**6 - 1).bit_length() == 20 and _ell(10**6 - 1, 10**6) < 20


def test_signed_note_go_vectors():
    sk = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    key = Ed25519PrivateKey.from_private_bytes(b(sk.split("+", 4)[4])[1:])
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    assert N.verifier_key("PeterNeumann", key.public_key()) == vkey
    text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    peter = "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    enoch = "\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
    assert N.sign_note(text, "PeterNeumann", key) == text + "\n" + peter
    name, pub = N.parse_verifier_key(vkey)
    assert N.open_note(text + "\n" + peter + enoch, name, pub) == text    # TestOpen: two signatures, one known
    en, epub = N.parse_verifier_key("EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop")
    assert N.open_note(text + "\n" + peter + enoch, en, epub) == text
    with pytest.raises(N.NoteError, match="not signed by the trusted key"):
        N.open_note(text + "\n" + enoch, name, pub)
    for bad in ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", vkey[:-3], "Peter Neumann+c74f20a3+AR"):
        with pytest.raises(N.NoteError):
            N.parse_verifier_key(bad)


def test_checkpoint_round_trip_and_bad_input():
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    k, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    cp = N.Checkpoint("por-lab.test/log", 8, ROOTS[8])
    note = cp.sign(k)
    assert note.startswith("por-lab.test/log\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\u2014 por-lab.test/log ")
    assert N.Checkpoint.open(note, k.public_key(), "por-lab.test/log") == cp
    with pytest.raises(N.NoteError, match="from log 'por-lab.test/log', not from"):
        N.Checkpoint.open(note, k.public_key(), "por-lab.test/other")
    with pytest.raises(N.NoteError, match="not signed by the trusted key"):
        N.Checkpoint.open(note, other.public_key())
    for bad in (note.replace("\n8\n", "\n08\n"), note.replace("\n8\n", "\n9\n"), note[:-2], "x\n"):
        with pytest.raises(N.NoteError):
            N.Checkpoint.open(bad, k.public_key())


def test_canonical_json_equals_rfc8785_on_random_json():
    """The fast RFC 8785 serialiser (C json + checks, exact fallback) gives the bytes of the reference package."""
    rfc8785 = pytest.importorskip("rfc8785")
    from hypothesis import given, settings, strategies as st
    from por_lab.tlog import canonical_json
    leaf = st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.floats(allow_nan=False, allow_infinity=False) \
        | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8) | st.sampled_from(["a:1.0,", "x.0]", "1e-7"]) \
        | st.sampled_from([1e-4, 9.999999999999999e-05, 2.0 ** 53, 2.0 ** 53 - 1, -(2.0 ** 53 - 1), 1e16, 9999999999999998.0,
                           1e21, 1e-6, 1e-7, -0.0, 0.0, 100.0, -1.0]) \
        | st.floats(min_value=-1e17, max_value=1e17).map(lambda f: float(round(f)))  # integral floats around the 2**53 edge
    val = st.recursive(leaf, lambda c: st.lists(c, max_size=4) | st.tuples(c, c) | st.dictionaries(st.text(max_size=5), c, max_size=4),
                       max_leaves=12)

    @settings(max_examples=600, deadline=None)
    @given(val)
    def check(x):
        assert canonical_json(x) == rfc8785.dumps(x)
    check()
