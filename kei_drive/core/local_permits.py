"""Local permission overrides: "my town / county allows Kei by ordinance".

In states whose road access is not ``statewide`` (Ohio: only in towns that opted in),
a driver may record that a place allows Kei: a named place with a radius, or a polygon,
with the cap the ordinance sets. Inside it, the router and the audit count those roads as
allowed, and every use is marked as the driver's own statement, never as the app's.

Each account's permits are one permits document (``permits_document`` /
``parse_permits_document``) in the database (``db/permits.py``). The file functions
(``load_permits`` / ``save_permits`` / ``add_permit``) read and write the same document as a
JSON file: the pre-accounts storage, imported once into the owner's account.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from kei_drive.core.distance import haversine_m

SCHEMA = "kei-drive/local-permits"
SCHEMA_VERSION = 1
MAX_RADIUS_M = 100_000.0
STATEMENT = "your own statement"  # how every use is marked


class PermitError(ValueError):
    """A permit or the permits file is broken; the message names the permit and field."""


@dataclass(frozen=True)
class LocalPermit:
    """One place where the driver says a local ordinance allows Kei."""

    id: str  # short slug, unique in the file
    state: str  # USPS code the ordinance belongs to
    label: str  # "Coldwater, OH" — what the driver sees
    note: str  # where it comes from: "Ordinance 2019-07, village office, 2026-05"
    cap_mph: int | None  # the ordinance's posted-speed cap; None = the state's cap applies
    created: date
    center: tuple[float, float] | None = None  # (lat, lon) with radius_m
    radius_m: float | None = None
    polygon: tuple[tuple[float, float], ...] = field(default=())  # ((lat, lon), ...)

    def contains(self, lats: Any, lons: Any) -> np.ndarray:
        """Vectorised: which (lat, lon) points lie inside the permit area."""
        lats = np.asarray(lats, dtype=float)
        lons = np.asarray(lons, dtype=float)
        if self.center is not None and self.radius_m is not None:
            return haversine_m(self.center[0], self.center[1], lats, lons) <= self.radius_m
        ring = np.asarray(self.polygon, dtype=float)
        inside = np.zeros(lats.shape, dtype=bool)
        ys, xs = ring[:, 0], ring[:, 1]
        for i in range(len(ring)):  # even-odd ray casting
            j = i - 1
            crosses = (ys[i] > lats) != (ys[j] > lats)
            with np.errstate(divide="ignore", invalid="ignore"):
                x_at = (xs[j] - xs[i]) * (lats - ys[i]) / (ys[j] - ys[i]) + xs[i]
            inside ^= crosses & (lons < x_at)
        return inside

    def describe(self) -> str:
        cap = f", roads {self.cap_mph} mph or less" if self.cap_mph else ""
        return f"{self.label}: local ordinance allows Kei{cap} ({STATEMENT}: {self.note})"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["created"] = self.created.isoformat()
        data["center"] = list(self.center) if self.center else None
        data["polygon"] = [list(p) for p in self.polygon]
        return data


def parse_permit(raw: Any, where: str = "permit") -> LocalPermit:
    """Validate one permit record; PermitError names the field."""

    def bad(name: str, problem: str) -> PermitError:
        return PermitError(f"{where}: field '{name}': {problem}")

    if not isinstance(raw, dict):
        raise PermitError(f"{where}: a permit must be an object")
    unknown = sorted(set(raw) - set(LocalPermit.__dataclass_fields__))
    if unknown:
        raise bad(unknown[0], "unknown field")
    pid = raw.get("id")
    if not isinstance(pid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", pid):
        raise bad("id", f"expected a short lowercase slug, got {pid!r}")
    state = raw.get("state")
    if not (isinstance(state, str) and len(state) == 2 and state.isalpha()):
        raise bad("state", f"expected a two-letter state code, got {state!r}")
    for name in ("label", "note"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise bad(name, "missing or empty (say which place and which ordinance)")
    cap = raw.get("cap_mph")
    if cap is not None and (
        isinstance(cap, bool) or not isinstance(cap, int) or not 5 <= cap <= 85
    ):
        raise bad("cap_mph", f"null or a whole number of mph between 5 and 85, got {cap!r}")
    try:
        created = date.fromisoformat(str(raw.get("created")))
    except ValueError:
        raise bad("created", f"not a YYYY-MM-DD date: {raw.get('created')!r}") from None
    center, radius, polygon = raw.get("center"), raw.get("radius_m"), raw.get("polygon") or ()
    if center is not None:
        if not _latlon(center):
            raise bad("center", f"expected [lat, lon], got {center!r}")
        if isinstance(radius, bool) or not isinstance(radius, int | float):
            raise bad("radius_m", "a place needs a radius in metres")
        if not 0 < radius <= MAX_RADIUS_M:
            raise bad("radius_m", f"must be above 0 and at most {MAX_RADIUS_M:.0f} m")
        if polygon:
            raise bad("polygon", "give either a place with a radius or a polygon, not both")
        center = (float(center[0]), float(center[1]))
    else:
        if not isinstance(polygon, list | tuple) or len(polygon) < 3:
            raise bad("polygon", "give a place with a radius, or a polygon of 3+ [lat, lon]")
        if not all(_latlon(p) for p in polygon):
            raise bad("polygon", "every corner must be [lat, lon]")
        polygon = tuple((float(a), float(b)) for a, b in polygon)
        radius = None
    return LocalPermit(
        id=pid,
        state=state.upper(),
        label=raw["label"].strip(),
        note=raw["note"].strip(),
        cap_mph=cap,
        created=created,
        center=center,
        radius_m=float(radius) if radius is not None else None,
        polygon=polygon,
    )


def _latlon(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and -90 <= value[0] <= 90
        and -180 <= value[1] <= 180
    )


# --- storage: the one interface to replace for per-user database storage ------------------


# The default file per environment (config.local_permits_path makes the home folder and
# builds paths each call: ~50 us, paid by every plan without permits given).
_DEFAULT_PATHS: dict[tuple[str | None, ...], Path] = {}


def _default_path() -> Path:
    key = tuple(os.environ.get(k) for k in ("KEI_DRIVE_LOCAL_PERMITS", "KEI_DRIVE_HOME", "HOME"))
    path = _DEFAULT_PATHS.get(key)
    if path is None:
        from kei_drive import config  # stdlib-only; imported late to keep core import light

        path = _DEFAULT_PATHS[key] = config.local_permits_path()
    return path


def load_permits(path: str | os.PathLike | None = None) -> list[LocalPermit]:
    """All permits of a permits file ([] when there is no file). PermitError when broken.

    The app keeps each account's permits in the database (``db/permits.py``); the file is
    what the CLI used before accounts, imported once into the owner's account."""
    path = Path(path) if path is not None else _default_path()
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PermitError(f"{path.name}: cannot read: {exc}") from None
    return parse_permits_document(doc, path.name)


def parse_permits_document(doc: Any, label: str = "permits") -> list[LocalPermit]:
    """The permits of a permits document (file or database row); PermitError when broken."""
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise PermitError(f"{label}: field 'schema': expected {SCHEMA!r}")
    items = doc.get("permits")
    if not isinstance(items, list):
        raise PermitError(f"{label}: field 'permits': expected a list")
    return [parse_permit(p, f"{label}: permit {i + 1}") for i, p in enumerate(items)]


def permits_document(permits: list[LocalPermit]) -> dict[str, Any]:
    """A permits document holding ``permits`` (what the file and the database store)."""
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "permits": [p.to_dict() for p in permits],
    }


def save_permits(permits: list[LocalPermit], path: str | os.PathLike | None = None) -> Path:
    """Replace the permits of a permits file (atomic write)."""
    path = Path(path) if path is not None else _default_path()
    doc = permits_document(permits)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, indent=2, ensure_ascii=False)
        fh.write("\n")
    os.replace(tmp, path)
    return path


# --- operations (storage-independent) -------------------------------------------------------


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63] or "permit"


def make_permit(
    *,
    state: str,
    label: str,
    note: str,
    cap_mph: int | None = None,
    center: tuple[float, float] | None = None,
    radius_m: float | None = None,
    polygon: list[tuple[float, float]] | None = None,
    on: date | None = None,
) -> LocalPermit:
    """A validated permit (not stored yet); PermitError names the bad field."""
    return parse_permit(
        {
            "id": slug(f"{state}-{label}"),
            "state": state,
            "label": label,
            "note": note,
            "cap_mph": cap_mph,
            "created": (on or date.today()).isoformat(),
            "center": list(center) if center else None,
            "radius_m": radius_m,
            "polygon": [list(p) for p in polygon or ()],
        }
    )


def with_permit(permits: list[LocalPermit], permit: LocalPermit) -> list[LocalPermit]:
    """``permits`` with ``permit`` added (replacing one with the same id)."""
    return [*(p for p in permits if p.id != permit.id), permit]


def add_permit(*, path: str | os.PathLike | None = None, **fields: Any) -> LocalPermit:
    """Validate and store a permit in a permits file (``make_permit``'s fields)."""
    permit = make_permit(**fields)
    save_permits(with_permit(load_permits(path), permit), path)
    return permit


def remove_permit(permit_id: str, path: str | os.PathLike | None = None) -> bool:
    permits = load_permits(path)
    kept = [p for p in permits if p.id != permit_id]
    if len(kept) == len(permits):
        return False
    save_permits(kept, path)
    return True
