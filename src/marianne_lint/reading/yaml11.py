"""YAML 1.1 scalar resolution, the way Marianne's safe loader reads a file.

Marianne loads YAML with a YAML 1.1 safe loader: ``yes``/``on``/``off`` are
booleans, ``1:30`` is the base-60 integer 90, ``0660`` is octal, ``1e3`` is a
string (1.1 floats need a dot) and ``2024-05-01`` is a date. Editors and most
other tools read YAML 1.2, where all of these differ. :func:`resolve_plain`
returns the value Marianne sees and, where YAML 1.2 (core schema) would read
the same text differently, a short note saying how.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import math
import re
from typing import Any

BOOL_RE = re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$")
FLOAT_RE = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
INT_RE = re.compile(
    r"""^(?:[-+]?0b[0-1_]+
    |[-+]?0[0-7_]+
    |[-+]?(?:0|[1-9][0-9_]*)
    |[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
    re.X,
)
NULL_RE = re.compile(r"^(?:~|null|Null|NULL|)$")
TIMESTAMP_RE = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
_TIMESTAMP_PARTS = re.compile(
    r"""^(?P<year>[0-9][0-9][0-9][0-9])-(?P<month>[0-9][0-9]?)-(?P<day>[0-9][0-9]?)
    (?:(?:[Tt]|[ \t]+)(?P<hour>[0-9][0-9]?):(?P<minute>[0-9][0-9]):(?P<second>[0-9][0-9])
    (?:\.(?P<fraction>[0-9]*))?
    (?:[ \t]*(?P<tz>Z|(?P<tz_sign>[-+])(?P<tz_hour>[0-9][0-9]?)(?::(?P<tz_minute>[0-9][0-9]))?))?)?$""",
    re.X,
)

# YAML 1.2 core schema, to tell where the two versions disagree.
_CORE_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_CORE_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)

_FIRST_CHARS_BOOL = set("yYnNtTfFoO")
_FIRST_CHARS_NUMBER = set("-+0123456789.")

BOOL_WORDS_ONLY_IN_11 = re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$")


class ScalarError(ValueError):
    """A scalar Marianne's loader cannot construct (for example a bad date)."""


class ScalarTooLarge(ScalarError):
    """A number too large for Python to handle as text (its int-string limit): a resource limit."""


#: Python refuses to turn integers of more than this many decimal digits into text (or back);
#: such a number is reported instead of being read.
MAX_INT_DIGITS = 4300
_MAX_INT_BITS = int(MAX_INT_DIGITS * math.log2(10))


def _bounded(number: int, text: str) -> int:
    if number.bit_length() > _MAX_INT_BITS:
        raise ScalarTooLarge(f"the integer {text[:20]}... has more than the {MAX_INT_DIGITS} digits Python handles")
    return number


def _int(text: str, base: int = 10) -> int:
    """``int(text, base)`` within the int-string limit (a longer number is :class:`ScalarTooLarge`)."""
    digits = len(text.lstrip("+-").lstrip("0")) if base == 10 else 0
    if digits > MAX_INT_DIGITS:
        raise ScalarTooLarge(
            f"the integer {text[:20]}... has {digits} digits, more than the {MAX_INT_DIGITS} digits Python handles"
        )
    return _bounded(int(text, base), text)


def _core_value(text: str) -> Any:
    """What a YAML 1.2 core-schema reader makes of a plain scalar."""
    if NULL_RE.match(text):
        return None
    if _CORE_BOOL.match(text):
        return text.lower() == "true"
    if _CORE_INT.match(text):
        if text.startswith("0o"):
            return _int(text[2:], 8)
        return _int(text[2:], 16) if text.startswith("0x") else _int(text)
    if _CORE_FLOAT.match(text):
        lowered = text.lower()
        if lowered.endswith("inf"):
            return -math.inf if lowered.startswith("-") else math.inf
        if lowered.endswith("nan"):
            return math.nan
        return float(text)
    return text


def _construct_int(text: str) -> int:
    value = text.replace("_", "")
    sign = 1
    if value[0] == "-":
        sign = -1
    if value[0] in "+-":
        value = value[1:]
    if value == "0":
        return 0
    if value in ("0b", "0x"):  # '0b_' matches the 1.1 pattern; PyYAML then fails on int('', 2)
        raise ScalarError(f"{text!r} has no digits after its base prefix")
    if value.startswith("0b"):
        return sign * _int(value[2:], 2)
    if value.startswith("0x"):
        return sign * _int(value[2:], 16)
    if value[0] == "0":
        return sign * _int(value, 8)
    if ":" in value:
        parts = value.split(":")
        if len(parts) * math.log2(60) > _MAX_INT_BITS:
            raise ScalarTooLarge(f"the sexagesimal number {text[:20]}... ({len(parts)} parts) has more than the "
                                 f"{MAX_INT_DIGITS} digits Python handles")
        digits = [_int(part) for part in parts]
        digits.reverse()
        base, total = 1, 0
        for digit in digits:
            total += digit * base
            base *= 60
        return sign * _bounded(total, text)
    return sign * _int(value)


def _construct_float(text: str) -> float:
    value = text.replace("_", "").lower()
    sign = 1.0
    if value[0] == "-":
        sign = -1.0
    if value[0] in "+-":
        value = value[1:]
    if value == ".inf":
        return sign * math.inf
    if value == ".nan":
        return math.nan
    if ":" in value:
        digits = [float(part) for part in value.split(":")]
        digits.reverse()
        base, total = 1.0, 0.0
        for digit in digits:
            total += digit * base
            base *= 60
        return sign * total
    return sign * float(value)


def construct_timestamp(text: str) -> datetime.date | datetime.datetime:
    match = _TIMESTAMP_PARTS.match(text)
    if match is None:
        raise ScalarError(f"cannot read {text!r} as a date")
    parts = match.groupdict()
    try:
        year, month, day = int(parts["year"]), int(parts["month"]), int(parts["day"])
        if parts["hour"] is None:
            return datetime.date(year, month, day)
        fraction = 0
        if parts["fraction"]:
            digits = parts["fraction"][:6]
            fraction = int(digits + "0" * (6 - len(digits)))
        tzinfo = None
        if parts["tz"]:
            if parts["tz"] == "Z":
                tzinfo = datetime.UTC
            else:
                delta = datetime.timedelta(hours=int(parts["tz_hour"]), minutes=int(parts["tz_minute"] or 0))
                if parts["tz_sign"] == "-":
                    delta = -delta
                tzinfo = datetime.timezone(delta)
        return datetime.datetime(
            year, month, day, int(parts["hour"]), int(parts["minute"]), int(parts["second"]), fraction, tzinfo
        )
    except ValueError as exc:
        raise ScalarError(f"{text!r} looks like a date but is not a valid one ({exc})") from exc


#: First characters of a plain scalar that may read as something other than a string.
_NOT_PLAIN_TEXT = frozenset("yYnNtTfFoO-+0123456789.~<=")
#: Results of resolving the texts that are not plain strings (they repeat: ``1``, ``true``).
_RESOLVED: dict[str, tuple[Any, str | None]] = {}
_RESOLVED_MAX = 10_000


def resolve_plain(text: str) -> tuple[Any, str | None]:
    """Resolve an untagged plain scalar as YAML 1.1 does.

    Returns ``(value, note)``; ``note`` is None when YAML 1.2 reads the text
    the same way, otherwise one of ``"bool"``, ``"number"``, ``"string"``,
    ``"timestamp"``, ``"merge"`` or ``"value"`` naming what YAML 1.1 made of it.
    """
    if text and text[0] not in _NOT_PLAIN_TEXT:
        return text, None  # most keys and words: only a string, in YAML 1.1 and 1.2 alike
    known = _RESOLVED.get(text)
    if known is not None:
        return known
    resolved = _resolve(text)
    if len(_RESOLVED) < _RESOLVED_MAX:
        _RESOLVED[text] = resolved
    return resolved


def _resolve(text: str) -> tuple[Any, str | None]:
    value: Any
    first = text[:1]
    if first in _FIRST_CHARS_BOOL and BOOL_RE.match(text):
        value = text.lower() in ("yes", "true", "on")
        return value, ("bool" if BOOL_WORDS_ONLY_IN_11.match(text) else None)
    if first in _FIRST_CHARS_NUMBER:
        if FLOAT_RE.match(text):
            value = _construct_float(text)
            return value, _differs(text, value, "number")
        if INT_RE.match(text):
            value = _construct_int(text)
            return value, _differs(text, value, "number")
        if first.isdigit() and TIMESTAMP_RE.match(text):
            return construct_timestamp(text), "timestamp"
    elif text == "<<":
        return text, "merge"
    if NULL_RE.match(text):
        return None, None
    if text == "=":
        return text, "value"  # the loader refuses it as a value and reads it as a string key
    # A string in 1.1: does 1.2 read a number here (``1e3``, ``0o17``)?
    if first in _FIRST_CHARS_NUMBER or first == "0":
        core = _core_value(text)
        if not isinstance(core, str):
            return text, "string"
    return text, None


def _differs(text: str, value: Any, kind: str) -> str | None:
    core = _core_value(text)
    if isinstance(core, str) or type(core) is not type(value):
        return kind
    if isinstance(value, float) and math.isnan(value) and math.isnan(core):
        return None
    return None if core == value else kind


def construct_tagged(tag: str, text: str) -> Any:
    """Construct a scalar with an explicit standard tag (``!!str yes``)."""
    short = tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else None
    if tag == "!" or short == "str":
        return text
    if short == "int":
        if not INT_RE.match(text):
            raise ScalarError(f"{text!r} is not an integer")
        return _construct_int(text)
    if short == "float":
        try:
            return _construct_float(text)
        except (ValueError, IndexError) as exc:
            raise ScalarError(f"{text!r} is not a number") from exc
    if short == "bool":
        if not BOOL_RE.match(text):
            raise ScalarError(f"{text!r} is not a boolean")
        return text.lower() in ("yes", "true", "on")
    if short == "null":
        return None
    if short == "timestamp":
        return construct_timestamp(text)
    if short == "binary":
        try:
            return base64.decodebytes(text.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError) as exc:
            raise ScalarError(f"cannot decode binary data: {exc}") from exc
    raise ScalarError(f"the tag {tag} is not one a safe YAML loader constructs")
