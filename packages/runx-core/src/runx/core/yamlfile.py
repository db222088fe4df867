"""Reading YAML files with errors that name the file, line and problem.

Beyond PyYAML's safe loader: float spellings are kept (`0.00001` stays `0.00001` on the command
line), a number with an exponent but no dot (`1e-5`, which YAML 1.1 reads as text) is a number,
duplicate keys are errors, and a document whose aliases would expand to more than
ALIAS_EXPANSION_LIMIT nodes (an alias bomb) or refer to themselves is refused before it is built.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Tuple

import yaml
from runx.core.errors import RunxError

try:  # libyaml's parser where PyYAML has it
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]

__all__ = ["SourceFloat", "parse_yaml", "load_yaml", "ALIAS_EXPANSION_LIMIT", "EXPONENT_NUMBER"]

ALIAS_EXPANSION_LIMIT = 100_000
"""How many nodes aliases (`*name`) may add to a document when expanded."""

EXPONENT_NUMBER = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+")
"""A number written with an exponent (`1e-5`, `2E3`, `1.5e+2`): YAML 1.2 reads it as a float, YAML 1.1
(PyYAML) only with a dot and a signed exponent."""


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


class _Loader(_SafeLoader):
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
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(f"^(?:{EXPONENT_NUMBER.pattern})$"), list("-+0123456789."))


class _AliasError(Exception):
    """A document whose aliases expand too far or refer to themselves; `mark` is where."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.mark = mark


def _children(node: yaml.Node) -> List[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_aliases(root: yaml.Node, limit: int = ALIAS_EXPANSION_LIMIT) -> None:
    """Raise _AliasError when expanding every alias would add more than `limit` nodes, or when a
    node contains itself. Linear in the distinct nodes: each node's expanded size is counted once."""
    sizes: Dict[int, int] = {}
    visiting: Set[int] = set()
    stack: List[Tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            visiting.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
            if sizes[key] - len(sizes) > limit:
                raise _AliasError(f"its aliases expand to more than {limit:,} nodes (an alias bomb?); "
                                  "expected a document whose aliases (*name) repeat less", node.start_mark)
            continue
        if key in sizes:
            continue
        if key in visiting:
            raise _AliasError("an alias refers to the node that contains it; expected no recursive aliases", node.start_mark)
        visiting.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        node: Optional[yaml.Node] = loader.get_single_node()
        if node is None:
            return None
        check_aliases(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; `source` names it in errors."""
    try:
        return _load(text)
    except _AliasError as err:
        mark = err.mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise RunxError(f"{where}: malformed YAML: {err.problem}") from None
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
