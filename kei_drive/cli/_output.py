"""Shared helpers for CLI output: JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    # Written in batches of tokens: json.dump writes every token on its own (a long route's
    # geometry is hundreds of thousands), json.dumps would hold them all at once.
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False, default=str)
    batch: list[str] = []
    for token in encoder.iterencode(data):
        batch.append(token)
        if len(batch) >= 8192:
            sys.stdout.write("".join(batch))
            batch.clear()
    sys.stdout.write("".join(batch) + "\n")


def fail(message: str, code: int = 2) -> int:
    """Print a clear error for the user and return the exit code to use."""
    print(f"kei-drive: error: {message}", file=sys.stderr)
    return code
