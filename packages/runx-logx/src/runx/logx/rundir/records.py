"""The metrics log's record reader: every complete record of metrics.jsonl from a byte offset on."""

import json
from typing import List, NamedTuple

__all__ = ["ReadResult", "read_records"]


class ReadResult(NamedTuple):
    """What read_records found: complete records, whether any line was torn, where reading stopped, and
    `skipped`: complete lines that did not parse as a JSON object (an unterminated last line is not counted)."""

    records: List[dict]
    torn: bool
    end_offset: int
    skipped: int = 0


def read_records(path: str, offset: int = 0) -> ReadResult:
    """Every complete record of a metrics log from byte `offset` on; lines that do not parse are skipped and counted."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    records: List[dict] = []
    torn = False
    skipped = 0
    end = data.rfind(b"\n") + 1  # bytes up to the last complete line
    if end < len(data):
        torn = True  # an unterminated last line: in flight or torn; a writer may still finish it
    for line in data[:end].split(b"\n")[:-1]:
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            record = None
        if isinstance(record, dict):
            records.append(record)
        else:
            torn = True
            skipped += 1
    return ReadResult(records, torn, offset + end, skipped)
