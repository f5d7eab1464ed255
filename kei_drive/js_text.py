"""Values put into JavaScript that Reflex runs with eval() (``rx.call_script``): always as
JSON string literals, never pasted between quotes, so no value can end the string and
run code of its own (security probe L9: ``select_state`` with ``x'); alert(1); ('``)."""

from __future__ import annotations

import json


def js_string(value: str) -> str:
    """A JavaScript string literal holding exactly ``value``."""
    # JSON escapes quotes and backslashes; "</" and U+2028/9 are escaped too for safety in
    # any embedding.
    text = json.dumps(str(value), ensure_ascii=True)
    return text.replace("</", "<\\/")


def replace_url_script(url: str) -> str:
    """Script that changes the address bar to ``url`` without a page load."""
    return f"window.history.replaceState(null, '', {js_string(url)})"


def js_value(value: object) -> str:
    """A JavaScript expression holding exactly the JSON value ``value`` (same escaping)."""
    return json.dumps(value, ensure_ascii=True).replace("</", "<\\/")
