"""`typing.NamedTuple`'s class syntax at the price of `collections.namedtuple`.

Importing typing costs about 3 ms here, a fifteenth of `runx sweep.yml -n`, and the plan's records
were the only reason the dry run loaded it. Modules write

    TYPE_CHECKING = False
    if TYPE_CHECKING:
        from typing import NamedTuple as Record
    else:
        from runx.core.records import Record

so type checkers see a real NamedTuple with typed fields, and at run time the class is built by
collections.namedtuple: annotated fields in order, trailing defaults, methods and docstring kept.
Modules using it keep `from __future__ import annotations` (the annotations are read, never evaluated).
"""
from __future__ import annotations

from collections import namedtuple

__all__ = ["Record"]

_NOT_COPIED = {"__module__", "__qualname__", "__annotations__", "__dict__", "__weakref__", "__slots__"}


class _RecordType(type):
    def __new__(mcs, name: str, bases: tuple, namespace: dict) -> type:
        if not bases:
            return super().__new__(mcs, name, bases, namespace)
        fields = list(namespace.get("__annotations__", {}))
        if not fields:
            raise TypeError(f"record {name} has no annotated fields")
        with_default = [f for f in fields if f in namespace]
        if with_default != fields[len(fields) - len(with_default):]:
            raise TypeError(f"record {name}: a field without a default follows one with a default")
        cls = namedtuple(name, fields, defaults=[namespace[f] for f in with_default], module=namespace["__module__"])  # type: ignore[misc]
        for key, value in namespace.items():
            if key not in fields and key not in _NOT_COPIED:
                setattr(cls, key, value)
        cls.__qualname__ = namespace.get("__qualname__", name)
        cls.__annotations__ = dict(namespace["__annotations__"])
        return cls


class Record(metaclass=_RecordType):
    """Subclass with annotated fields (and defaults) to get an immutable namedtuple record."""
