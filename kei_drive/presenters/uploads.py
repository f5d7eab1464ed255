"""What the pages say of files the browser refused to send (too large, of another kind):
the drop zone refuses them before any upload, and said nothing of it."""

from __future__ import annotations

from typing import Any

from kei_drive import config

MAX_GPX_MB = config.MAX_GPX_BYTES // 2**20
TOO_LARGE_HINT = (
    "import it from the command line (kei-drive trips import FILE), which takes any size, "
    "or split it"
)


def refused_files(rejected: list[dict[str, Any]], hint: str = TOO_LARGE_HINT) -> list[str]:
    """One line per file the drop zone refused (``components.refused_files`` records:
    ``{"name", "codes"}``, react-dropzone's error codes)."""
    lines = []
    for entry in rejected or []:
        entry = entry if isinstance(entry, dict) else {}
        name = str(entry.get("name") or "a file")
        codes = {str(c) for c in entry.get("codes") or [] if c}
        if "file-too-large" in codes:
            lines.append(f"{name}: larger than the {MAX_GPX_MB} MB this page takes: {hint}")
        elif "too-many-files" in codes:
            lines.append(f"{name}: one file at a time")
        elif "file-invalid-type" in codes:
            lines.append(f"{name}: not a GPX file (.gpx)")
        else:
            lines.append(f"{name}: not sent ({', '.join(sorted(codes)) or 'refused'})")
    return lines
