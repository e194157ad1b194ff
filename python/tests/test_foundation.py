"""The foundation's Python bindings against independent references computed here in PyTorch."""
import math

import pytest
import torch

import lmlab


def test_info_names_versions_and_simd():
    info = lmlab.info()
    assert info["libtorch"].startswith(torch.__version__.split("+")[0][:4])
    assert info["simd_in_use"] == lmlab.simd_level()
    assert lmlab.simd_level() in ("scalar", "avx2", "avx512")


def test_encode_is_the_utf8_bytes_and_decode_inverts_it():
    text = "fortune: ça va\n%\n"
    tokens = lmlab.encode(text)
    assert tokens.dtype == torch.int64
    assert tokens.tolist() == list(text.encode("utf-8"))
    assert lmlab.decode(tokens) == text.encode("utf-8")


def test_decode_rejects_tokens_outside_a_byte():
    with pytest.raises(ValueError, match="255"):
        lmlab.decode(torch.tensor([65, 256]))


def test_unigram_bits_per_byte_matches_the_formula():
    gen = torch.Generator().manual_seed(0)
    train = torch.randint(0, 40, (5000,), generator=gen)
    held = torch.randint(0, 60, (700,), generator=gen)
    p = (torch.bincount(train, minlength=256).double() + 1) / (train.numel() + 256)
    expected = -torch.log2(p[held]).mean().item()
    assert lmlab.unigram_bits_per_byte(train, held) == pytest.approx(expected, rel=1e-12)
    assert math.isfinite(expected)
