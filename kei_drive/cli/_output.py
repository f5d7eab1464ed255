"""Shared helpers for CLI output: JSON on stdout, errors on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def fail(message: str, code: int = 2) -> int:
    """Print a clear error for the user and return the exit code to use."""
    print(f"kei-drive: error: {message}", file=sys.stderr)
    return code
