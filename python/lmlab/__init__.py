"""lmlab for PyTorch users: the C++ library's pieces as functions on torch tensors.

`import torch` comes first so that the extension binds to the LibTorch that PyTorch loaded.
"""
import torch  # noqa: F401  (loads LibTorch before the extension)

from ._lmlab import decode, encode, info, simd_level, unigram_bits_per_byte
from . import attention, onebit, optim
from . import copyright

__all__ = ["attention", "copyright", "decode", "encode", "info", "onebit", "optim", "simd_level", "unigram_bits_per_byte"]
__version__ = info()["lmlab"]
