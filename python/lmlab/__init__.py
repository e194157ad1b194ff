"""lmlab for PyTorch users: the C++ library's pieces as functions on torch tensors.

`import torch` comes first so that the extension binds to the LibTorch that PyTorch loaded.
"""
import torch  # noqa: F401  (loads LibTorch before the extension)

from ._lmlab import decode, encode, info, simd_level, unigram_bits_per_byte
from . import attention, copyright, icl, onebit, optim, privacy

__all__ = ["attention", "copyright", "decode", "encode", "icl", "info", "onebit", "optim", "privacy", "simd_level",
           "unigram_bits_per_byte"]
__version__ = info()["lmlab"]
