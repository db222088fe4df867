"""CRC-32C (Castagnoli), the checksum of TFRecord framing: google-crc32c's C code when installed, else plain Python.

`crc32c_python` is the reference, stdlib only: two bytes per step through a table of 65,536 entries
(built on its first call, about 60 ms), about 12 us for a 3-scalar event. `crc32c` is
`google_crc32c.value` when that package's C extension is importable (the `tensorboard` extra installs
it; under 1 us an event), else `crc32c_python`. A TensorBoard metric() computes one per call, the
biggest cost logx itself adds to it; tests/logx/test_tfevents.py holds the two equal (hypothesis).
"""
from __future__ import annotations

from array import array
from sys import byteorder
from typing import Callable, Optional, Tuple

__all__ = ["crc32c", "crc32c_python", "IMPLEMENTATION"]

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected


def _byte_table() -> Tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_BYTE = _byte_table()
_WORD: Optional[Tuple[int, ...]] = None


def _word_table() -> Tuple[int, ...]:
    """The CRC update for each 16-bit little-endian word: two byte steps folded into one lookup."""
    global _WORD
    if _WORD is None:
        table = []
        for word in range(65536):
            crc = _BYTE[word & 0xFF] ^ (word >> 8)
            table.append(_BYTE[crc & 0xFF] ^ (crc >> 8))
        _WORD = tuple(table)
    return _WORD


def crc32c_python(data: bytes) -> int:
    """The CRC-32C of `data`, in plain Python."""
    table = _WORD or _word_table()
    crc = 0xFFFFFFFF
    odd = len(data) & 1
    even = data[:-1] if odd else data
    words = array("H", even)
    if byteorder != "little":
        words.byteswap()
    for word in words:
        crc = table[(crc ^ word) & 0xFFFF] ^ (crc >> 16)
    if odd:
        crc = _BYTE[(crc ^ data[-1]) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _native() -> Optional[Callable[[bytes], int]]:
    """google_crc32c.value when the package and its C extension are installed, else None."""
    try:
        import google_crc32c
    except ImportError:
        return None
    if getattr(google_crc32c, "implementation", None) != "c":  # its own pure-Python fallback is slower than ours
        return None
    value: Callable[[bytes], int] = google_crc32c.value
    return value


_NATIVE = _native()
IMPLEMENTATION = "google-crc32c" if _NATIVE is not None else "python"
"""Which implementation `crc32c` is: "google-crc32c" or "python"."""
crc32c: Callable[[bytes], int] = _NATIVE if _NATIVE is not None else crc32c_python
"""The CRC-32C of `data` (bytes)."""
