"""Export formats: file names and MIME types (API downloads, trip page, Plan page)."""

from __future__ import annotations

import re
from enum import StrEnum


class ExportFormat(StrEnum):
    """A trip or route export; the value is the file extension."""

    GPX = "gpx"
    GEOJSON = "geojson"

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self]


MIME_TYPES = {
    ExportFormat.GPX: "application/gpx+xml",
    ExportFormat.GEOJSON: "application/geo+json",
}
PLANNED_ROUTE_FILENAME = "kei-route.gpx"  # the Plan page's "Export GPX"


def trip_file_stem(uuid: str, name: str = "") -> str:
    """A file name stem from the trip's name ("farm-loop"), else "kei-drive-<uuid start>"."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60]
    return slug or f"kei-drive-{uuid[:8]}"


def trip_filename(uuid: str, fmt: ExportFormat, name: str = "") -> str:
    return f"{trip_file_stem(uuid, name)}.{fmt.value}"


def trip_export_url(uuid: str, fmt: ExportFormat) -> str:
    """The API path streaming a trip's export (``kei_drive.api``; the session cookie signs it)."""
    return f"/api/v1/trips/{uuid}/export.{fmt.value}"
