"""`key=value` overrides after the experiment file: changing a sweep without editing it (Hydra's habit).

- `lr=0.1,0.2` sets the HPARAMS key `lr` in every mapping of HPARAMS; the value is read as YAML
  (`1e-5` is a number, `true` a flag) and a comma makes a list, a sweep axis. A value written as a
  YAML quoted string (`name='"a,b"'`) or a flow list (`name=[a,b]`, kept as that text) is one value;
  `{uniform: [0, 1]}` is a distribution. `x=null` removes the key.
- A key that is not in HPARAMS is added, with a warning that names the closest existing key.
- `FARM=slurm`, `RESOURCES.gpu=4`, `SWEEP.trials=20`, ...: the experiment's top-level keys, with a
  dot path into a mapping; a text key (FARM, CMD, LOGROOT, ...) takes the text as written, a mapping's
  entry one YAML value. An unknown key is refused.

Pure functions: the experiment mapping goes in, a changed copy comes out, before anything is planned.
"""
from __future__ import annotations

from typing import Any, List, NamedTuple, Sequence, Tuple

from runx.core.errors import RunxError, did_you_mean

__all__ = ["Override", "parse_overrides", "apply_overrides", "looks_like_override"]

HPARAMS_ONLY_PREFIXES = ("RUNX.", "SUBMIT_JOB.")
TEXT_KEYS = ("CMD", "LOGROOT", "FARM", "CODE_IGNORE_PATTERNS", "PYTHONPATH", "SUBMIT_CMD", "NGC_LOGROOT",
             "WORKSPACE", "TYPE", "JOB_FLAG", "NAME_FLAG")
"""Top-level keys an override sets to its text as written (`FARM=slurm`, `CODE_IGNORE_PATTERNS=*.pyc,data*`)."""
SCALAR_KEYS = TEXT_KEYS + ("ARRAY",)
"""Top-level keys an override sets as a whole (ARRAY is read as YAML: true or false)."""
MAPPING_KEYS = ("RESOURCES", "SWEEP", "METRICS")
"""Top-level keys an override sets one entry of (`RESOURCES.gpu=4`)."""
SWEEP_OPTIONS = ("replicas", "seed", "trials")
NULLS = ("null", "Null", "NULL", "~")


class Override(NamedTuple):
    """One `key=value` word as given (`text`), split at its first `=`."""

    text: str
    key: str
    value_text: str


def looks_like_override(word: str) -> bool:
    """Whether a command-line word is `key=value` (a key of at least one character, no leading `-`)."""
    key, eq, _ = word.partition("=")
    return bool(eq and key and not key.startswith("-"))


def parse_overrides(words: Sequence[str]) -> List[Override]:
    """The overrides given on the command line; RunxError for a word that is not `key=value`."""
    found = []
    for word in words:
        if not looks_like_override(word):
            raise RunxError(f"{word}: expected an override key=value after the experiment file (e.g. lr=0.1,0.2)")
        key, _, value = word.partition("=")
        if key != key.strip() or not value.strip():
            raise RunxError(f"{word}: expected key=value with a value after '=' (key=null removes the key)")
        found.append(Override(word, key, value))
    return found


def _read(text: str, override: Override) -> Any:
    """One value as YAML reads it (the project's reader: spellings kept, `1e-5` a number)."""
    from runx.core.yamlfile import parse_yaml

    return parse_yaml(text, f"override {override.text}")


def hparam_value(override: Override) -> Tuple[Any, bool]:
    """(the value an HPARAMS override sets, whether it removes the key)."""
    text = override.value_text.strip()
    if text in NULLS:
        return None, True
    if text.startswith("["):  # a flow list written as one value: the script receives it as written
        _read(text, override)
        return text, False
    if text.startswith(("'", '"', "{")):  # a quoted string or a distribution: one value
        value = _read(text, override)
        if isinstance(value, (list, dict)) and text[0] != "{":
            raise RunxError(f"override {override.text}: expected one value")
        return value, False
    items = [part.strip() for part in text.split(",")]
    if any(not part for part in items):
        raise RunxError(f"override {override.text}: an empty value between commas; expected values such as "
                        f"{override.key}=0.1,0.2")
    values = []
    for part in items:
        value = _read(part, override)
        if isinstance(value, (list, dict)) or (value is None and len(items) > 1):
            raise RunxError(f"override {override.text}: {part!r} is not a plain value; quote it in YAML form "
                            f"({override.key}='\"{text}\"') to pass it as one value")
        values.append(value)
    return (values if len(values) > 1 else values[0]), False


def _hparams_keys(hparams: Any) -> List[str]:
    mappings = hparams if isinstance(hparams, list) else [hparams]
    keys: dict = {}
    for mapping in mappings:
        if isinstance(mapping, dict):
            keys.update((k, True) for k in mapping if isinstance(k, str))
    return list(keys)


def _top_level(experiment: dict, override: Override) -> None:
    """Set a top-level key (FARM, RESOURCES.gpu, SWEEP.trials, ...) in `experiment`."""
    head, dot, rest = override.key.partition(".")
    text = override.value_text.strip()
    value = None if text in NULLS else text if head in TEXT_KEYS else _read(text, override)
    expected = (f"expected one of {', '.join(SCALAR_KEYS)}, or {'/'.join(MAPPING_KEYS)}.<name>, "
                "or a hyperparameter of HPARAMS")
    if head in SCALAR_KEYS:
        if dot:
            raise RunxError(f"override {override.text}: {head} takes a value, not a dot path; expected {head}=...")
        if value is None:
            experiment.pop(head, None)
        else:
            experiment[head] = value
        return
    if head not in MAPPING_KEYS:
        raise RunxError(f"override {override.text}: unknown key {head}{did_you_mean(head, SCALAR_KEYS + MAPPING_KEYS)}; "
                        f"{expected}")
    if not dot or not rest or "." in rest:
        raise RunxError(f"override {override.text}: expected {head}.<name>=value (e.g. RESOURCES.gpu=4, SWEEP.trials=20)")
    if head == "SWEEP" and rest not in SWEEP_OPTIONS:
        raise RunxError(f"override {override.text}: unknown sweep option {rest}{did_you_mean(rest, SWEEP_OPTIONS)}; "
                        f"expected one of {', '.join(SWEEP_OPTIONS)}")
    section = experiment.get(head)
    section = dict(section) if isinstance(section, dict) else {}
    if value is None:
        section.pop(rest, None)
    else:
        section[rest] = value
    experiment[head] = section


def _is_top_level(key: str, hparam_keys: Sequence[str]) -> bool:
    """Whether `key` names a top-level key (FARM, RESOURCES.gpu) rather than a hyperparameter."""
    if key in hparam_keys or key.startswith(HPARAMS_ONLY_PREFIXES):
        return False
    head = key.split(".", 1)[0]
    return head in SCALAR_KEYS + MAPPING_KEYS or (head.isupper() and head != "HPARAMS")


def apply_overrides(experiment: dict, overrides: Sequence[Override], source: str) -> Tuple[dict, List[str]]:
    """(a copy of the experiment mapping with the overrides applied in order, warnings); RunxError for an
    unknown top-level key or a value that does not read. `source` names the experiment file in messages."""
    changed = dict(experiment)
    warnings: List[str] = []
    for override in overrides:
        hparams = changed.get("HPARAMS")
        keys = _hparams_keys(hparams)
        key = override.key[len("HPARAMS."):] if override.key.startswith("HPARAMS.") else override.key
        if key == override.key and _is_top_level(key, keys):
            _top_level(changed, override)
            continue
        if not isinstance(hparams, (dict, list)):
            continue  # no HPARAMS to change: load_settings says what is wrong with the file
        value, remove = hparam_value(override)
        if key not in keys:
            if remove:
                warnings.append(f"override {override.text}: {key} is not in HPARAMS ({source}); nothing to remove")
                continue
            import difflib

            close = difflib.get_close_matches(key, keys, n=1, cutoff=0.6)
            hint = f"; the closest key is {close[0]!r} (a typo?)" if close else ""
            warnings.append(f"override {override.text}: {key} is not in HPARAMS ({source}); added to every run{hint}")
        mappings = [hparams] if isinstance(hparams, dict) else hparams
        new = []
        for mapping in mappings:
            mapping = dict(mapping) if isinstance(mapping, dict) else mapping
            if isinstance(mapping, dict):
                if remove:
                    mapping.pop(key, None)
                else:
                    mapping[key] = value
            new.append(mapping)
        changed["HPARAMS"] = new[0] if isinstance(hparams, dict) else new
    return changed, warnings
