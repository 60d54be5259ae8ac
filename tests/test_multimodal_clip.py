"""The real open_clip loading path, on a tiny architecture whose random weights the test saves to a checkpoint."""
import json

import numpy as np
import pytest

clip = pytest.importorskip("por_lab.encoders._clip")
from por_lab.multimodal import load_image_emb, load_text_emb, MultimodalResonator  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    "Register a tiny open_clip config through open_clip.add_model_config and save its random weights."
    oc = clip.import_open_clip()
    d = tmp_path_factory.mktemp("clipcfg")
    cfg = {"embed_dim": 32,
           "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
           "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
    (d / "test-tiny-clip.json").write_text(json.dumps(cfg))
    oc.add_model_config(d / "test-tiny-clip.json")
    import torch
    torch.manual_seed(0)
    model = oc.create_model("test-tiny-clip")
    ck = d / "weights.pt"
    torch.save(model.state_dict(), ck)
    return "test-tiny-clip", str(ck), model


def test_checkpoint_loads_and_encodes(tiny, tmp_path):
    name, ck, model = tiny
    enc = clip.ClipEncoder(name, ck, batch_size=2)
    texts = load_text_emb(["a cat", "a dog", "a rocket"], encoder=enc)
    assert texts.shape == (3, 32) and texts.dtype == np.float32
    assert np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-5)
    # the loaded weights are the saved ones: same embedding as the in-memory model
    import torch
    with torch.no_grad():
        ref = torch.nn.functional.normalize(model.encode_text(enc.tokenizer(["a dog"])), dim=-1).numpy()[0]
    assert np.allclose(texts[1], ref, atol=1e-5)
    one = load_text_emb("a cat", encoder=enc)
    assert one.shape == (32,) and np.allclose(one, texts[0], atol=1e-6)
    from PIL import Image
    arr = (np.random.default_rng(0).random((20, 30, 3)) * 255).astype(np.uint8)
    p = tmp_path / "x.png"; Image.fromarray(arr).save(p)
    e_path = load_image_emb(str(p), encoder=enc)
    e_list = load_image_emb([p, Image.fromarray(arr), arr], encoder=enc)
    assert e_path.shape == (32,) and e_list.shape == (3, 32)
    assert np.allclose(e_list, e_path, atol=1e-5)
    res = MultimodalResonator(e_path, texts).run(30)
    assert np.allclose(res.coherence(trajectory=True)[:, 0], texts @ e_path, atol=1e-6)


def test_settings_pick_up_model_and_checkpoint(tiny, tmp_path, monkeypatch):
    name, ck, _ = tiny
    ini = tmp_path / "user.ini"
    ini.write_text(f"[multimodal]\nclip_model = {name}\nclip_pretrained = {ck}\n")
    monkeypatch.setenv("POR_LAB_SETTINGS", str(ini))
    e = load_text_emb("a horse")  # no arguments: everything from the settings
    assert e.shape == (32,)


def test_no_weights_configured_says_how(monkeypatch, tmp_path):
    ini = tmp_path / "user.ini"
    ini.write_text("[multimodal]\nclip_model = ViT-B-32\nclip_pretrained =\n")
    monkeypatch.setenv("POR_LAB_SETTINGS", str(ini))
    with pytest.raises(clip.ClipWeightsMissing, match="clip_pretrained"):
        load_text_emb("a cat")


def test_uncached_tag_is_refused_quickly():
    with pytest.raises(clip.ClipWeightsMissing, match="not in the local"):
        clip.ClipEncoder("ViT-B-32", "laion2b_s34b_b79k", allow_download=False)


def test_missing_checkpoint_file(tmp_path):
    with pytest.raises(clip.ClipWeightsMissing, match="does not exist"):
        clip.ClipEncoder("ViT-B-32", str(tmp_path / "nope.pt"))


def test_unknown_model_name():
    with pytest.raises(ValueError, match="unknown open_clip model 'ViT-B-3'"):
        clip.ClipEncoder("ViT-B-3", "x.pt")


def test_checkpoint_of_another_architecture(tiny):
    _, ck, _ = tiny
    with pytest.raises(ValueError, match=r"cannot load CLIP weights .*weights\.pt.* into model 'por-tiny-clip'"):
        clip.ClipEncoder(clip.TINY_MODEL, ck)


def test_checkpoint_that_is_not_a_checkpoint(tmp_path):
    bad = tmp_path / "garbage.pt"; bad.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="garbage.pt"):
        clip.ClipEncoder(clip.TINY_MODEL, str(bad))


def test_unreadable_and_corrupt_images(tiny, tmp_path):
    name, ck, _ = tiny
    enc = clip.ClipEncoder(name, ck)
    bad = tmp_path / "corrupt.jpg"; bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(ValueError, match="corrupt.jpg"):
        load_image_emb(str(bad), encoder=enc)
    with pytest.raises(FileNotFoundError, match="missing.png"):
        load_image_emb(str(tmp_path / "missing.png"), encoder=enc)
    with pytest.raises(ValueError, match=r"image\[1\]"):
        load_image_emb([np.zeros((4, 4, 3), np.uint8), np.zeros((4, 4, 2), np.uint8)], encoder=enc)
    with pytest.raises(TypeError, match="text\\[1\\]"):
        load_text_emb(["ok", 3], encoder=enc)


def test_gpu_asked_but_absent():
    import torch
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        clip.resolve_device("cuda")
    assert clip.resolve_device("auto") == "cpu"
