"""TensorBoard scalar events encoded by hand: the protobuf bytes and the TFRecord framing.

A scalar event is `Event{wall_time=1, step=2, summary=5{value=1{tag=1, simple_value=2}}}`; the bytes
are those protobuf's own SerializeToString gives (fields in number order, a zero step left out), so
TensorBoard reads them like any tensorboardX event. A TFRecord is the little-endian length, its
masked CRC-32C, the data and the data's masked CRC-32C (runx.logx.crc32c: google-crc32c's C code when
installed, else plain Python); the header's checksum depends only on the length, so it is remembered.
Nothing here needs more than the standard library.
"""
from __future__ import annotations

import struct
from typing import Any, BinaryIO, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from runx.logx.crc32c import crc32c

__all__ = ["scalar_event", "summary_event", "ScalarEncoder", "file_version_event", "record", "read_records", "crc32c"]


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked checksum of `data`."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


_UINT32 = struct.Struct("<I").pack
_HEADERS: Dict[int, bytes] = {}


def record(data: bytes) -> bytes:
    """`data` framed as one TFRecord."""
    header = _HEADERS.get(len(data))
    if header is None:
        length = struct.pack("<Q", len(data))
        header = _HEADERS[len(data)] = length + _UINT32(masked_crc32c(length))
    return header + data + _UINT32(masked_crc32c(data))


def read_records(file: BinaryIO) -> Iterator[bytes]:
    """The data of each TFRecord read from `file`, up to the first one that is cut short or fails its
    checksums (where TensorBoard's reader stops too)."""
    while True:
        header = file.read(12)
        if len(header) < 12 or _UINT32(masked_crc32c(header[:8])) != header[8:]:
            return
        size = struct.unpack("<Q", header[:8])[0]
        body = file.read(size + 4)
        if len(body) < size + 4 or _UINT32(masked_crc32c(body[:size])) != body[size:]:
            return
        yield body[:size]


_SMALL = tuple(bytes((i,)) for i in range(128))


def _varint(value: int) -> bytes:
    if 0 <= value < 128:
        return _SMALL[value]
    if 0 < value < 16384:  # the steps of most runs
        return bytes((value & 0x7F | 0x80, value >> 7))
    if value < 0:
        value += 1 << 64  # int64 two's complement, as protobuf encodes a negative step
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_VALUE_HEADS: Dict[str, bytes] = {}
_MAX_HEADS = 10_000  # a tag per step (f"loss_{step}") must not grow the cache forever
_FLOAT = struct.Struct("<f").pack
_DOUBLE = struct.Struct("<d").pack


def _value_head(tag: str) -> bytes:
    """Everything of a Summary.Value for `tag` before the 4 bytes of its simple_value."""
    head = _VALUE_HEADS.get(tag)
    if head is None:
        if len(_VALUE_HEADS) >= _MAX_HEADS:
            _VALUE_HEADS.clear()
        name = tag.encode("utf-8", "replace")  # a lone surrogate becomes "?" rather than an error mid-training
        body = (b"\x0a" + _varint(len(name)) + name if name else b"") + b"\x15"  # proto3 leaves out an empty tag
        head = _VALUE_HEADS[tag] = b"\x0a" + _varint(len(body) + 4) + body
    return head


def _float32(value: float) -> bytes:
    try:
        return _FLOAT(value)
    except (OverflowError, struct.error):  # beyond float32, as protobuf stores it: infinity of that sign
        return _FLOAT(float("inf") if value > 0 else float("-inf"))


def scalar_event(wall_time: float, step: Optional[int], tag_values: Iterable[Tuple[str, float]]) -> bytes:
    """The serialized Event holding one simple_value per (tag, value), at `step` and `wall_time`."""
    summary = b"".join([_value_head(tag) + _float32(value) for tag, value in tag_values])
    parts = [b"\x09" + _DOUBLE(wall_time)] if wall_time else []
    if step:
        parts.append(b"\x10" + _varint(int(step)))
    parts.append(b"\x2a" + _varint(len(summary)) + summary)
    return b"".join(parts)


def summary_event(wall_time: float, summary: bytes) -> bytes:
    """The serialized Event holding `summary` (a serialized Summary), without a step, at `wall_time`."""
    head = b"\x09" + _DOUBLE(wall_time) if wall_time else b""
    return head + b"\x2a" + _varint(len(summary)) + summary


_WALL = struct.Struct("<Bd").pack


class ScalarEncoder:
    """scalar_event for one fixed list of tags, faster: what does not change between calls (each
    Summary.Value's tag bytes, the summary's length) is worked out once, and one struct packs the values.

    `event(wall_time, step, values)` is `scalar_event(wall_time, step, zip(tags, values))` byte for byte
    (tests/logx/test_tfevents.py holds the two equal); a value that does not fit a float32 goes the
    reference's way.
    """

    def __init__(self, tags: Sequence[str]) -> None:
        self.tags = tuple(tags)
        heads = [_value_head(tag) for tag in self.tags]
        self._summary = struct.Struct("<" + "".join(f"{len(head)}sf" for head in heads)).pack
        self._args: List[Any] = [part for head in heads for part in (head, 0.0)]  # every other item a value's place
        summary_size = sum(len(head) + 4 for head in heads)
        self._prefix = b"\x2a" + _varint(summary_size)

    def event(self, wall_time: float, step: Optional[int], values: Iterable[float]) -> bytes:
        """The serialized Event holding one simple_value per tag, at `step` and `wall_time`."""
        args = self._args.copy()
        args[1::2] = values  # ValueError unless one value per tag
        try:
            summary = self._summary(*args)
        except (OverflowError, struct.error):  # a value beyond float32: stored as an infinity, as the reference does
            return scalar_event(wall_time, step, zip(self.tags, args[1::2]))
        head = _WALL(9, wall_time) if wall_time else b""
        if step:
            return head + b"\x10" + _varint(int(step)) + self._prefix + summary
        return head + self._prefix + summary


FILE_VERSION = "brain.Event:2"


def file_version_event(wall_time: float) -> bytes:
    """The serialized Event that opens an event file: `Event{wall_time, file_version="brain.Event:2"}`."""
    version = FILE_VERSION.encode("ascii")
    return b"\x09" + _DOUBLE(wall_time) + b"\x1a" + _varint(len(version)) + version
