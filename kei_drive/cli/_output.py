"""Shared helpers for CLI output: JSON on stdout, errors on stderr."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# A list this long of plain values or small lists (a route's geometry: hundreds of thousands
# of [lat, lon] pairs) is written one item a line by the C encoder: json's indenting
# encoder is pure Python, ~3 s for a 116,000-point geometry.
LONG_LIST = 1000
BATCH = 8192  # items of a long list encoded at a time

_INDENTED = json.JSONEncoder(indent=2, ensure_ascii=False, default=str)
_COMPACT = json.JSONEncoder(ensure_ascii=False, default=str)


def _long_plain_list(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) >= LONG_LIST
        and not any(isinstance(item, dict) for item in value)
    )


def _numbers(item: Any) -> bool:
    return type(item) in (int, float) or (
        type(item) in (list, tuple) and all(type(x) in (int, float) for x in item)
    )


def _one_item_a_line(items: list | tuple, pad: str) -> str:
    """``items`` compactly encoded, one a line after ``pad``, without brackets. Items of plain
    numbers are encoded in one call of the C encoder and split where "], [" can only be
    between items (about 10x faster than an encoder call per item)."""
    if all(_numbers(item) for item in items):
        text = _COMPACT.encode(list(items))[1:-1]
        if items and type(items[0]) in (list, tuple):
            return pad + text.replace("], [", "],\n" + pad + "[")
        return pad + text.replace(", ", ",\n" + pad)
    return ",\n".join(pad + _COMPACT.encode(item) for item in items)


def _write(out: Any, data: Any, level: int) -> None:
    """``data`` as indented JSON (two spaces a level), long plain lists one item a line."""
    pad = "  " * (level + 1)
    if isinstance(data, dict) and data:
        out.write("{\n")
        for k, (key, value) in enumerate(data.items()):
            out.write(f"{pad}{_COMPACT.encode(str(key))}: ")
            _write(out, value, level + 1)
            out.write(",\n" if k < len(data) - 1 else "\n")
        out.write("  " * level + "}")
    elif _long_plain_list(data):
        out.write("[\n")
        for start in range(0, len(data), BATCH):
            batch = data[start : start + BATCH]
            out.write(",\n" if start else "")
            out.write(_one_item_a_line(batch, pad))
        out.write("\n" + "  " * level + "]")
    else:
        text = _INDENTED.encode(data)
        out.write(text.replace("\n", "\n" + "  " * level) if level else text)


def print_json(data: Any) -> None:
    """``data`` as JSON on stdout, indented; written in pieces, never held whole."""
    _write(sys.stdout, data, 0)
    sys.stdout.write("\n")


def fail(message: str, code: int = 2) -> int:
    """Print a clear error for the user and return the exit code to use."""
    print(f"kei-drive: error: {message}", file=sys.stderr)
    return code


def unreadable_file(path: Path) -> str | None:
    """Why ``path`` cannot be read as a GPX file ("no such file", "a directory"), or None."""
    if not path.exists():
        return f"no such file: {path}"
    if path.is_dir():
        return f"{path} is a directory, not a GPX file"
    if not path.is_file():
        return f"{path} is not a regular file (a device or a pipe): save the GPX to a file"
    return None


def number_in(low: float, high: float = math.inf, *, above: bool = False) -> Callable[[str], float]:
    """An argparse type: a number from ``low`` (``above``: over it) to ``high``. NaN, a
    negative gap or a 0 mph top speed were taken as given (a traceback, "about inf min",
    0 km in every state)."""
    least = f"over {low:g}" if above else f"from {low:g}"
    most = "" if math.isinf(high) else f" to {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        too_low = value <= low if above else value < low
        if math.isnan(value) or too_low or value > high:
            raise argparse.ArgumentTypeError(f"must be a number {least}{most}, not {text}")
        return value

    return parse
