"""Text that XML 1.0 can hold (pure Python; used by the GPX writers)."""

from __future__ import annotations

import re
import unicodedata

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (control characters other than
    tab/newline/return, lone surrogates, U+FFFE and U+FFFF): they would make the whole
    document malformed, and no reader could open it again."""
    return _NOT_XML.sub("", text)


def clean_text(value: str) -> str:
    """A one-line name: control characters dropped (tabs and newlines become spaces),
    lone surrogates dropped, ends trimmed. Such characters mean nothing in a name and
    would break exports."""
    out = []
    for char in value:
        if char in "\t\n\r":
            out.append(" ")
        elif unicodedata.category(char) not in ("Cc", "Cs") and char not in "\ufffe\uffff":
            out.append(char)
    return "".join(out).strip()
