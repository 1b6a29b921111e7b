"""Who did what: the label-resident rule, and each event's labels per resident.

Multi-resident logs name the resident in the label itself (CASAS twor / Kyoto `R1_Sleep`, `R2_Bed_to_Toilet`;
Cairo `R1 wake`, `R2 take medicine`) or in a resident column of an event table. Labels are never rewritten:
`EventLog.frame["labels"]` keeps them verbatim ("R1_Sleep") and `frame["residents"]` holds, parallel to them,
the resident of each label ("R1"; "" for a label that names none, such as twor's `Clean` or Cairo's
`Breakfast`).

The rule (docs/log-formats.md, "Residents"): a label names a resident when the rule's pattern matches at its
start; the resident is the pattern's `resident` group. `auto` (the default) is `DEFAULT_PATTERN`: `R`, digits,
then `_` or a space and more text. `none` names no resident (labels are kept verbatim with no resident); any
other text is a regular expression with a named group `resident`. A non-empty resident cell of a table names
its row's resident and wins over the pattern.

A label that names no resident belongs to nobody in particular: it is in the flattened labels only, never
given to a resident it was not written for (the conservative label rule of the readers). A resident's
activity is the label without the resident and the separators next to it (`R1_Sleep` -> `Sleep`); label
maps and descriptions that do not list a resident label are read through its activity (`lookup`), so coarse
(L2) classes are shared by the residents.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping, TypeVar

import numpy as np

from ..errors import UserError

DEFAULT_PATTERN = r"(?P<resident>R\d+)[_ ](?=\S)"
RULES = ("auto", "none")                 # besides a regular expression
SEPARATORS = " _-:./"                    # between a resident and the activity in a label
T = TypeVar("T")


@dataclass(frozen=True)
class ResidentRule:
    """How a label names its resident: a pattern matched at the label's start (None: labels name none)."""

    spec: str                            # as given: "auto", "none" or a regular expression
    pattern: "re.Pattern[str] | None"

    def resident(self, label: str) -> str:
        """The resident a label names ("" when none)."""
        if self.pattern is None or not label:
            return ""
        match = self.pattern.match(label)
        return (match.group("resident") or "") if match else ""

    def describe(self) -> str:
        """The rule in words, for reports."""
        if self.pattern is None:
            return "none: labels name no resident"
        if self.spec == "auto":
            return "auto: a label starting R<number> then _ or a space names that resident"
        return f"a label matching {self.pattern.pattern!r} at its start names the resident the pattern finds"


def resident_rule(spec: str | None = "auto") -> ResidentRule:
    """The rule `--residents` names: auto (DEFAULT_PATTERN), none, or a regular expression with a `resident`
    group; UserError for anything else."""
    spec = "auto" if spec is None else str(spec)
    if spec.strip().lower() == "none":
        return ResidentRule("none", None)
    if spec.strip().lower() == "auto":
        return ResidentRule("auto", re.compile(DEFAULT_PATTERN))
    try:
        pattern = re.compile(spec)
    except re.error as err:
        raise UserError(f"--residents: expected auto, none or a regular expression, found {spec!r} ({err})") \
            from None
    if "resident" not in pattern.groupindex:
        raise UserError(f"--residents: the pattern {spec!r} needs a named group (?P<resident>...) that matches "
                        "the resident, e.g. '(?P<resident>R\\d+)_'")
    return ResidentRule(spec, pattern)


# --------------------------------------------------------------------------------------------- per event


def residents_column(labels: Iterable[tuple[str, ...]], given: Iterable[tuple[str, ...]],
                     rule: ResidentRule) -> np.ndarray:
    """Per event, the resident of each of its open labels (parallel tuples): the given resident when there is
    one (a table's resident cell), else the one the rule reads in the label."""
    def named(open_labels: tuple[str, ...], residents: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(r or rule.resident(label) for label, r in zip(open_labels, residents or ("",) * len(open_labels)))

    values = _per_pair(labels, given, named)
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def _per_pair(labels: Iterable[tuple[str, ...]], residents: Iterable[tuple[str, ...]], fn) -> list:
    """fn(labels, residents) of every event, computed once per distinct pair (a log repeats a few pairs)."""
    cache: dict[tuple, object] = {}
    out = []
    for key in zip(_plain(labels), _plain(residents)):
        found = cache.get(key)
        if found is None:
            found = cache[key] = fn(*key)
        out.append(found)
    return out


def blank_residents(labels: Iterable[tuple[str, ...]]) -> np.ndarray:
    """A residents column that names nobody: ("",) * len(labels) per event (one shared tuple per length)."""
    shared: dict[int, tuple[str, ...]] = {}
    values = [shared.setdefault(len(t), ("",) * len(t)) for t in labels]
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column


def residents_of(residents: Iterable[tuple[str, ...]]) -> list[str]:
    """The distinct residents named in a residents column, in natural order (R2 before R10)."""
    seen = {r for row in set(_plain(residents)) for r in row if r}
    return sorted(seen, key=natural_key)


def _plain(values: Iterable) -> Iterable:
    """A column as a plain list (iterating a pandas Series or numpy array item by item is several times slower)."""
    return values.tolist() if hasattr(values, "tolist") else values


def natural_key(name: str) -> tuple:
    """Sort key that orders the numbers inside names by value ("R2" < "R10")."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def primary_by_resident(labels: Iterable[tuple[str, ...]], residents: Iterable[tuple[str, ...]],
                        names: list[str]) -> dict[str, np.ndarray]:
    """Per resident, each event's primary label among that resident's open labels ("" when none): the most
    recently begun (labels are in begin order), as for the flattened primary label."""
    def primaries(open_labels: tuple[str, ...], owners: tuple[str, ...]) -> tuple[str, ...]:
        last = {owner: label for label, owner in zip(open_labels, owners) if owner}
        return tuple(last.get(name, "") for name in names)

    rows = _per_pair(labels, residents, primaries)
    table = np.array(rows, dtype=object).reshape(len(rows), len(names))
    return {name: table[:, i] for i, name in enumerate(names)}


def activity_of(label: str, resident: str) -> str:
    """The label without its resident and the separators next to it (`R1_Sleep`, `R1` -> `Sleep`); the label
    itself when it does not start or end with the resident (a table's `Sleep` with resident cell R1)."""
    if not resident:
        return label
    if label.startswith(resident):
        rest = label[len(resident):]
        activity = rest.lstrip(SEPARATORS)
        if activity and len(activity) < len(rest):
            return activity
    if label.endswith(resident):
        rest = label[: -len(resident)]
        activity = rest.rstrip(SEPARATORS)
        if activity and len(activity) < len(rest):
            return activity
    return label


def lookup(mapping: Mapping[str, T], label: str, residents: Iterable[str]) -> T | None:
    """`mapping[label]`; for a label the mapping does not list but that names one of `residents`, the entry
    of its activity: the activity itself (`Sleep`), else another resident's label of it (`R2 take medicine`
    for `R1 take medicine`; the first in sorted order). None when neither is listed."""
    if label in mapping:
        return mapping[label]
    residents = list(residents)
    activity = next((a for a in (activity_of(label, r) for r in residents) if a != label), None)
    if activity is None:
        return None
    if activity in mapping:
        return mapping[activity]
    for key in sorted(mapping):
        if any(activity_of(key, r) == activity for r in residents if activity_of(key, r) != key):
            return mapping[key]
    return None
