"""Farm backends, one module (or folder) per kind, found by kind through a registry.

A farm class registers itself with `@register`; runx finds the built-in ones (local, generic, ngc,
slurm, sge) by importing their module on first use, and any other kind through the `runx.farms` entry
point group (docs/farms.md: "Writing a farm"). Nothing outside a farm's own module branches on its kind.
"""
from __future__ import annotations

import importlib
from typing import Any, Dict, List, Mapping, Optional, Type, TypeVar

from runx.core.config import FarmSettings, Settings
from runx.core.errors import RunxError
from runx.core.farms.base import Farm, LaunchOptions, RunState, Submission

__all__ = ["Farm", "LaunchOptions", "RunState", "Submission", "register", "lookup", "known_kinds", "infer_kind",
           "make_farm", "farm_for_record", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "runx.farms"
"""Installed packages name their farm modules (or classes) here: `tsp = "mypkg.tsp_farm"`."""

# Built-in farms, imported when first looked up (a dry run imports only the one it uses). The order
# is the order in which `infer_kind` asks them whether a farm section without TYPE is theirs.
BUILTIN = {"ngc": "runx.core.farms.ngc", "slurm": "runx.core.farms.slurm", "sge": "runx.core.farms.sge",
           "local": "runx.core.farms.local", "generic": "runx.core.farms.generic"}
FALLBACK_KIND = "generic"

_REGISTRY: Dict[str, Type[Farm]] = {}
F = TypeVar("F", bound=Type[Farm])


def register(cls: F) -> F:
    """Make a Farm subclass the backend of its `kind` (a class decorator; a later one replaces an earlier)."""
    if not isinstance(cls, type) or not issubclass(cls, Farm) or not cls.kind:
        raise TypeError(f"register: expected a Farm subclass with a kind, found {cls!r}")
    _REGISTRY[cls.kind] = cls
    return cls


def _from_entry_points(kind: str) -> None:
    from importlib.metadata import entry_points

    found: Any = entry_points()
    group = found.select(group=ENTRY_POINT_GROUP) if hasattr(found, "select") else found.get(ENTRY_POINT_GROUP, [])
    for entry in group:
        if entry.name == kind:
            loaded = entry.load()
            if isinstance(loaded, type) and issubclass(loaded, Farm):
                register(loaded)
            return


def lookup(kind: str) -> Type[Farm]:
    """The farm class of `kind`; RunxError naming the known kinds when there is none."""
    if kind not in _REGISTRY:
        if kind in BUILTIN:
            importlib.import_module(BUILTIN[kind])
        else:
            _from_entry_points(kind)
    if kind not in _REGISTRY:
        raise RunxError(f"unknown farm type {kind!r}; expected one of {', '.join(known_kinds())}")
    return _REGISTRY[kind]


def known_kinds() -> List[str]:
    """Every kind runx can use now: built-in, registered, or named by an installed entry point."""
    kinds = dict.fromkeys([*BUILTIN, *_REGISTRY])
    try:
        from importlib.metadata import entry_points

        found: Any = entry_points()
        group = found.select(group=ENTRY_POINT_GROUP) if hasattr(found, "select") else found.get(ENTRY_POINT_GROUP, [])
        kinds.update(dict.fromkeys(e.name for e in group))
    except Exception:  # a broken installed distribution must not hide the built-in kinds
        pass
    return list(kinds)


def infer_kind(name: str, submit_cmd: str) -> str:
    """The kind of a farm section without TYPE: the first built-in farm that claims its name or
    SUBMIT_CMD (`ngc...` → ngc, `sbatch` → slurm), else generic."""
    for kind in BUILTIN:
        if kind != FALLBACK_KIND and lookup(kind).claims(name, submit_cmd):
            return kind
    return FALLBACK_KIND


def make_farm(settings: Settings, options: Optional[LaunchOptions] = None) -> Farm:
    """The backend for the settings' farm, set up for a launch with these launcher options."""
    return lookup(settings.farm.kind)(settings.farm, settings, options or LaunchOptions())


def farm_for_record(farm: Optional[Mapping[str, Any]]) -> Farm:
    """The backend a run was launched on, rebuilt from its run.json `farm` (no record: local, as
    runx 0.0.11's runs were). RunxError when the record is not a farm or its kind is unknown here."""
    if farm is None:
        farm = {}
    if not isinstance(farm, Mapping):
        raise RunxError(f"farm: expected a mapping with name and type, found {type(farm).__name__}")
    kind, name, submit_cmd = farm.get("type") or "local", farm.get("name") or farm.get("type") or "local", farm.get("submit_cmd") or ""
    for key, value in (("type", kind), ("name", name), ("submit_cmd", submit_cmd)):
        if not isinstance(value, str):
            raise RunxError(f"farm.{key}: expected a string, found {value!r}")
    cls = lookup(kind)
    return cls(FarmSettings(name=name, kind=kind, submit_cmd=submit_cmd))

