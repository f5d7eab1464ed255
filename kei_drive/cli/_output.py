"""Shared helpers for CLI output: JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

# A list this long of plain values or small lists (a route's geometry: hundreds of thousands
# of [lat, lon] pairs) is written one item a line by the C encoder: json's indenting
# encoder is pure Python, ~3 s for a 116,000-point geometry.
LONG_LIST = 1000

_INDENTED = json.JSONEncoder(indent=2, ensure_ascii=False, default=str)
_COMPACT = json.JSONEncoder(ensure_ascii=False, default=str)


def _long_plain_list(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) >= LONG_LIST
        and not any(isinstance(item, dict) for item in value)
    )


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
        encode = _COMPACT.encode
        last = len(data) - 1
        batch: list[str] = []
        for k, item in enumerate(data):
            batch.append(pad + encode(item) + (",\n" if k < last else "\n"))
            if len(batch) >= 8192:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch) + "  " * level + "]")
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
