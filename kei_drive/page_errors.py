"""What a page shows when one of its event handlers fails (Reflex's backend exception
handler): a read-only or busy database is said plainly; anything else is logged with an
error id and the page gets a generic message carrying that id (never internal text)."""

from __future__ import annotations

import logging
import uuid

from reflex.event import EventSpec
from reflex_components_sonner.toast import toast

from kei_drive import config
from kei_drive.db import health

log = logging.getLogger("kei_drive.pages")


def page_error_message(exc: Exception) -> str:
    kind = health.classify(exc)
    if kind == "readonly":
        health.mark_readonly(config.database_url(), str(getattr(exc, "orig", exc)))
        log.error("database write failed from a page, treating it as read-only: %s", exc)
        return f"Not saved: {health.READONLY_MESSAGE}."
    if kind == "locked":
        return f"Not saved: {health.LOCKED_MESSAGE}."
    error_id = uuid.uuid4().hex[:12]
    log.error("page event failed (error id %s)", error_id, exc_info=exc)
    return f"Something went wrong; nothing was changed. Error id {error_id} (in the server log)."


def backend_exception_handler(exception: Exception) -> EventSpec:
    return toast(
        page_error_message(exception),
        level="error",
        fallback_to_alert=True,
        position="top-center",
        id="backend_error",
    )
