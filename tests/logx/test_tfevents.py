"""runx.logx.tfevents: hand-encoded scalar events byte for byte as protobuf, TFRecord framing, CRC-32C."""
from __future__ import annotations

import io
import math
import struct
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runx.logx import LogX
from runx.logx import crc32c as crc_module
from runx.logx.crc32c import crc32c_python
from runx.logx.tfevents import ScalarEncoder, crc32c, file_version_event, read_records, record, scalar_event, summary_event

tags = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)  # protobuf strings are UTF-8
values = st.one_of(st.floats(), st.floats(min_value=3.4e38, max_value=3.5e38), st.integers(-(10 ** 40), 10 ** 40))
steps = st.one_of(st.none(), st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1))
walltimes = st.floats(min_value=0, max_value=4e9)


def test_crc32c_check_values():
    for crc in (crc32c, crc32c_python):
        assert crc(b"") == 0
        assert crc(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720)
        assert crc(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros
        assert crc(b"\xff" * 32) == 0x62A8AB43  # RFC 3720 B.4: 32 bytes of ones
        assert crc(bytes(range(32))) == 0x46DD794E  # RFC 3720 B.4: incrementing


def test_crc32c_is_google_crc32c_where_it_is_installed(requires):
    requires("google_crc32c")
    import google_crc32c

    assert crc_module.IMPLEMENTATION == "google-crc32c" and crc32c is google_crc32c.value


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=600))
def test_crc32c_equals_the_plain_python_reference(data, requires):
    requires("google_crc32c")
    assert crc32c(data) == crc32c_python(data)


def test_record_framing_reads_back():
    data = b"some event bytes"
    framed = record(data)
    (length,) = struct.unpack("<Q", framed[:8])
    assert length == len(data) and framed[12:12 + length] == data and len(framed) == 16 + length
    assert record(data) == framed  # the header checksum is remembered, not changed


@settings(max_examples=200, deadline=None)
@given(items=st.lists(st.binary(max_size=40), max_size=5), cut=st.integers(min_value=1, max_value=60),
       flip=st.integers(min_value=0, max_value=400))
def test_read_records_stops_at_the_first_torn_or_corrupt_record(items, cut, flip):
    framed = b"".join(record(d) for d in items)
    assert list(read_records(io.BytesIO(framed))) == items
    assert list(read_records(io.BytesIO(framed + record(b"tail")[:-min(cut, 20)]))) == items  # a record cut short
    if framed:
        damaged = bytearray(framed)
        damaged[flip % len(framed)] ^= 0x40
        read = list(read_records(io.BytesIO(bytes(damaged))))
        assert read == items[:len(read)] and len(read) < len(items)  # good records before it, none from it on


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300))
def test_crc32c_equals_tensorboardx(data, requires):
    requires("tensorboardX")
    from tensorboardX.crc32c import crc32c as reference
    from tensorboardX.record_writer import masked_crc32c

    assert crc32c(data) == reference(data) == crc32c_python(data)
    assert record(data)[-4:] == struct.pack("<I", masked_crc32c(data))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(walltime=walltimes, step=steps, tag_values=st.lists(st.tuples(tags, values), max_size=6))
def test_scalar_events_are_protobufs_own_bytes(walltime, step, tag_values, requires):
    requires("tensorboardX")
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.proto.summary_pb2 import Summary

    event = Event(wall_time=walltime, summary=Summary(value=[
        Summary.Value(tag=tag, simple_value=float(value)) for tag, value in tag_values]))
    if step is not None:
        event.step = step
    assert scalar_event(walltime, step, tag_values) == event.SerializeToString()


@settings(max_examples=500, deadline=None)
@given(walltime=walltimes, step=steps, tags=st.lists(tags, min_size=1, max_size=6), data=st.data())
def test_scalar_encoder_equals_scalar_event(walltime, step, tags, data):
    numbers = data.draw(st.lists(values, min_size=len(tags), max_size=len(tags)))
    encoder = ScalarEncoder(tags)
    assert encoder.event(walltime, step, numbers) == scalar_event(walltime, step, list(zip(tags, numbers)))
    assert encoder.event(walltime, step, iter(numbers)) == scalar_event(walltime, step, list(zip(tags, numbers)))


def test_scalar_encoder_refuses_a_wrong_number_of_values():
    encoder = ScalarEncoder(["a", "b"])
    for wrong in ([], [1.0], [1.0, 2.0, 3.0]):
        try:
            encoder.event(1.0, 1, wrong)
        except ValueError:
            continue
        raise AssertionError(f"{wrong} was encoded for two tags")


def test_out_of_range_values_reach_tensorboard_as_infinities(tmp_path, requires):
    requires("tensorboardX")
    requires("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with LogX().initialize(logdir=str(tmp_path), tensorboard=True) as log:
        log.metric("val", {"big": 1e39, "small": -(10 ** 50), "nan": float("nan"), "tiny": 1e-50}, 2)
        log.add_scalar("plain", 0.25, 0)
        log.tensorboard.add_scalar("with_kwargs", 0.5, 1, display_name="shown")  # tensorboardX's own path
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    got = {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
    assert got["val/big"] == [(2, math.inf)] and got["val/small"] == [(2, -math.inf)]
    assert math.isnan(got["val/nan"][0][1]) and got["val/tiny"] == [(2, 0.0)]
    assert got["plain"] == [(0, 0.25)] and got["with_kwargs"] == [(1, 0.5)]


def test_scalars_reach_the_event_file_without_close(tmp_path, requires):
    """The thread appends queued scalars within ~0.1 s; polled for up to 2 s so a slow machine still passes."""
    requires("tensorboardX")
    requires("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log = LogX().initialize(logdir=str(tmp_path), tensorboard=True)
    try:
        for step in range(50):
            log.metric("train", {"loss": 1.0 / (step + 1)})
        seen, deadline = [], time.monotonic() + 2
        while len(seen) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
            acc = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0})
            acc.Reload()
            seen = acc.Scalars("train/loss") if "train/loss" in acc.Tags()["scalars"] else []
        assert [(e.step, e.value) for e in seen] == [(s, struct.unpack("<f", struct.pack("<f", 1.0 / (s + 1)))[0])
                                                     for s in range(50)]
    finally:
        log.close()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(walltime=walltimes.filter(lambda w: w != 0))
def test_the_file_version_event_is_protobufs_own_bytes(walltime, requires):
    requires("tensorboardX")
    from tensorboardX.proto.event_pb2 import Event

    assert file_version_event(walltime) == Event(wall_time=walltime, file_version="brain.Event:2").SerializeToString()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(walltime=walltimes, tag_values=st.lists(st.tuples(tags, st.floats()), max_size=6),
       text=st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_summary_events_are_protobufs_own_bytes(walltime, tag_values, text, requires):
    requires("tensorboardX")
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata

    summary = Summary(value=[Summary.Value(tag=tag, simple_value=value) for tag, value in tag_values])
    summary.value.add(tag="text", metadata=SummaryMetadata(display_name=text))  # a summary past 127 bytes
    expected = Event(wall_time=walltime, summary=summary).SerializeToString()
    assert summary_event(walltime, summary.SerializeToString()) == expected
