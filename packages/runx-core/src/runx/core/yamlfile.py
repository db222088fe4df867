"""Reading YAML files with errors that name the file, line and problem."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from runx.core.errors import RunxError


class SourceFloat(float):
    """A float that prints as the user wrote it (`0.00001` stays `0.00001`, not `1e-05`)."""

    text: str

    def __new__(cls, value: float, text: str) -> "SourceFloat":
        self = super().__new__(cls, value)
        self.text = text
        return self

    def __str__(self) -> str:
        return self.text

    def __reduce__(self):
        return (SourceFloat, (float(self), self.text))


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser where PyYAML has it
    """SafeLoader that keeps float spellings and rejects duplicate keys."""


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> float:
    value = loader.construct_yaml_float(node)
    text = node.value
    plain = text.lstrip("+-")
    if "_" in text or plain.startswith(".") and plain[1:].lower() in ("inf", "nan"):
        return value
    return SourceFloat(value, text)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict:
    loader.flatten_mapping(node)
    mapping: dict = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; `source` names it in errors."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = err.problem or err.context or "invalid YAML"
        raise RunxError(f"{where}: malformed YAML: {problem}") from None
    except yaml.YAMLError as err:
        raise RunxError(f"{source}: malformed YAML: {err}") from None


def load_yaml(path: Path) -> dict:
    """Load a YAML file whose top level must be a mapping (an empty file is an empty mapping)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunxError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise RunxError(f"{path}: cannot read: {err}") from None
    data = parse_yaml(text, str(path))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RunxError(f"{path}: expected a mapping of KEY: value at the top level, found {type(data).__name__}")
    return data
