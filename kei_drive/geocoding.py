"""Find places: "LAT,LON" literals, an offline US gazetteer, and Nominatim (OpenStreetMap).

``geocode(text)`` tries, in order:
1. a coordinate literal ("39.1157, -77.5636");
2. the offline gazetteer for "City, ST" / "City, State" / "city st" (no network);
3. Nominatim via geopy — one request per second across the process (the public server's
   policy), a disk cache, timeouts, an identifying user agent;
4. when the network fails: the gazetteer by bare city name (most populous first), else
   GeocoderOffline with OFFLINE_MESSAGE.

Show NOMINATIM_ATTRIBUTION with Nominatim results and GAZETTEER_ATTRIBUTION with offline ones.
"""

from __future__ import annotations

import csv
import functools
import gzip
import json
import os
import re
import sqlite3
import threading
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kei_drive import version
from kei_drive.core.us_states import US_STATE_NAMES

# Nominatim's policy asks each installation to identify itself: set KEI_DRIVE_CONTACT to
# an e-mail address or URL where the operator of this installation can be reached.
CONTACT_ENV = "KEI_DRIVE_CONTACT"
NOMINATIM_ATTRIBUTION = "Search © OpenStreetMap contributors, ODbL"
GAZETTEER_ATTRIBUTION = "Places © GeoNames (geonames.org), CC BY 4.0"
OFFLINE_MESSAGE = "offline: only US city names and coordinates can be found"
GAZETTEER_PATH = Path(__file__).parent / "data" / "us_places.csv.gz"
NOMINATIM_MIN_INTERVAL_S = 1.0
NOMINATIM_TIMEOUT_S = 8.0
CACHE_TTL_S = 30 * 24 * 3600


class GeocodingError(Exception):
    """A place could not be looked up; the message is meant for the user."""


class GeocoderOffline(GeocodingError):
    """The online geocoder is unreachable and the offline sources found nothing."""


class GeocoderRefused(GeocodingError):
    """The online geocoder answered with an error (quota, bad query, server fault)."""


@dataclass(frozen=True)
class Place:
    name: str  # "Leesburg, VA" or Nominatim's display name
    lat: float
    lon: float
    source: str  # coordinates | gazetteer | nominatim
    state: str | None = None
    population: int | None = None

    @property
    def latlon(self) -> tuple[float, float]:
        return (self.lat, self.lon)

    @property
    def attribution(self) -> str | None:
        return {"nominatim": NOMINATIM_ATTRIBUTION, "gazetteer": GAZETTEER_ATTRIBUTION}.get(
            self.source
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "attribution": self.attribution}


# --- coordinates ------------------------------------------------------------------------

_LATLON = re.compile(
    r"^\s*\(?\s*([-+]?\d{1,2}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*\)?\s*$"
)


def parse_latlon(text: str) -> tuple[float, float] | None:
    """(lat, lon) from "39.11,-77.56" / "39.11 -77.56"; None if not a coordinate pair.
    Raises GeocodingError for a pair out of range."""
    m = _LATLON.match(text or "")
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise GeocodingError(f"coordinates out of range: {text.strip()} (expected LAT,LON)")
    return lat, lon


# --- offline gazetteer ------------------------------------------------------------------

_ABBREV = (("saint ", "st "), ("sainte ", "ste "), ("mount ", "mt "), ("fort ", "ft "))
_STATE_BY_NAME = {name.lower(): code for code, name in US_STATE_NAMES.items()}
_COUNTRY_SUFFIX = re.compile(r"[,\s]+(usa|us|u s a|u s|united states( of america)?)$")


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[.'’`]", "", text)
    text = re.sub(r"[^a-z0-9,]+", " ", text).strip()
    text = f"{text} "
    for long, short in _ABBREV:
        text = re.sub(rf"\b{long}", short, text)
    return text.strip()


def _key(name: str) -> str:
    return " ".join(_norm(name).replace(",", " ").split())


@functools.cache
def _gazetteer() -> tuple[dict[tuple[str, str], list[Place]], dict[str, list[Place]]]:
    by_state: dict[tuple[str, str], list[Place]] = {}
    by_name: dict[str, list[Place]] = {}
    with gzip.open(GAZETTEER_PATH, "rt", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            place = Place(
                name=f"{row['name']}, {row['state']}",
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                source="gazetteer",
                state=row["state"],
                population=int(row["population"]),
            )
            key = _key(row["name"])
            by_state.setdefault((key, row["state"]), []).append(place)
            by_name.setdefault(key, []).append(place)
    for places in (*by_state.values(), *by_name.values()):
        places.sort(key=lambda p: -(p.population or 0))
    return by_state, by_name


def split_city_state(text: str) -> tuple[str, str] | None:
    """("leesburg", "VA") from "Leesburg, VA" / "Leesburg, Virginia" / "leesburg va";
    None when the text does not end with a US state."""
    norm = _COUNTRY_SUFFIX.sub("", _norm(text))
    if "," in norm:
        city, _, state = norm.rpartition(",")
        city, state = city.replace(",", " ").strip(), state.strip()
        code = state.upper() if state.upper() in US_STATE_NAMES else _STATE_BY_NAME.get(state)
        return (" ".join(city.split()), code) if code and city else None
    words = norm.split()
    for n in (3, 2, 1):  # "district of columbia", "new york", "va"
        if len(words) <= n:
            continue
        tail = " ".join(words[-n:])
        code = (
            tail.upper() if n == 1 and tail.upper() in US_STATE_NAMES else _STATE_BY_NAME.get(tail)
        )
        if code:
            return " ".join(words[:-n]), code
    return None


def gazetteer_lookup(text: str, *, limit: int = 5) -> list[Place]:
    """Offline lookup. "City, ST" forms give that state's places; a bare name gives every
    state's places of that name, most populous first. [] when nothing matches."""
    by_state, by_name = _gazetteer()
    split = split_city_state(text)
    if split is not None:
        city, state = split
        # GeoNames says "New York City"; "Washington, D.C." is one name.
        for name in (city, f"{city} city", _key(text)):
            found = by_state.get((name, state)) or [
                p for p in by_name.get(name, []) if p.state == state
            ]
            if found:
                return found[:limit]
    by = by_name.get(_key(text))
    if by:
        return by[:limit]
    return []


# --- Nominatim (online) -----------------------------------------------------------------


class _RateLimiter:
    """At most one call per ``interval`` seconds per key, across threads of this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, key: str, interval: float) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(key, 0.0))
            self._next[key] = start + interval
        if start > now:
            time.sleep(start - now)


RATE_LIMITER = _RateLimiter()


class _DiskCache:
    """A small SQLite cache of geocoder answers (safe across processes and threads)."""

    def __init__(self, path: Path, ttl_s: float = CACHE_TTL_S) -> None:
        self.path, self.ttl_s = path, ttl_s
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, at REAL, body TEXT)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=5)

    def get(self, key: str) -> list[dict] | None:
        with self._lock, self._connect() as db:
            row = db.execute("SELECT at, body FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None or time.time() - row[0] > self.ttl_s:
            return None
        return json.loads(row[1])

    def put(self, key: str, value: list[dict]) -> None:
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO answers (key, at, body) VALUES (?, ?, ?)",
                (key, time.time(), json.dumps(value)),
            )


def user_agent() -> str:
    ver = version()
    contact = os.environ.get(CONTACT_ENV) or "self-hosted; operator contact not set"
    return f"kei-drive/{ver} ({contact})"


class NominatimClient:
    """geopy's Nominatim with the public server's manners: identify, 1 request/s, cache."""

    def __init__(
        self,
        *,
        domain: str = "nominatim.openstreetmap.org",
        scheme: str = "https",
        timeout_s: float = NOMINATIM_TIMEOUT_S,
        min_interval_s: float = NOMINATIM_MIN_INTERVAL_S,
        cache_path: Path | None = None,
        country_codes: str | None = "us",
        adapter_factory: Any = None,
    ) -> None:
        from geopy.geocoders import Nominatim

        self.domain, self.min_interval_s, self.country_codes = domain, min_interval_s, country_codes
        extra = {"adapter_factory": adapter_factory} if adapter_factory else {}
        self._geocoder = Nominatim(
            user_agent=user_agent(), domain=domain, scheme=scheme, timeout=timeout_s, **extra
        )
        if cache_path is None:
            from kei_drive import config

            cache_path = config.cache_dir() / "geocode.sqlite"
        self.cache = _DiskCache(Path(cache_path))
        self.requests_sent = 0

    def search(self, text: str, *, limit: int = 5) -> list[Place]:
        """Places for ``text`` (cached). Raises GeocodingError when the server fails."""
        from geopy import exc as geopy_exc

        query = " ".join(text.split())
        key = f"{self.domain}|{self.country_codes}|{limit}|{query.lower()}"
        cached = self.cache.get(key)
        if cached is not None:
            return [Place(**p) for p in cached]
        RATE_LIMITER.wait(self.domain, self.min_interval_s)
        self.requests_sent += 1
        try:
            found = self._geocoder.geocode(
                query,
                exactly_one=False,
                limit=limit,
                country_codes=self.country_codes,
                addressdetails=True,
            )
        except (geopy_exc.GeocoderUnavailable, geopy_exc.GeocoderTimedOut) as exc:
            raise GeocoderOffline(f"{OFFLINE_MESSAGE} (search server unreachable: {exc})") from exc
        except geopy_exc.GeopyError as exc:
            if type(exc) is geopy_exc.GeocoderServiceError:
                # geopy's catch-all: with its urllib adapter a DNS failure or a refused
                # connection ("[Errno -2] Name or service not known") arrives as this.
                raise GeocoderOffline(
                    f"{OFFLINE_MESSAGE} (search server unreachable: {exc})"
                ) from exc
            raise GeocoderRefused(f"place search failed: {exc}") from exc
        places = [_place_from_nominatim(loc) for loc in (found or [])]
        self.cache.put(key, [asdict(p) for p in places])
        return places


def _place_from_nominatim(loc: Any) -> Place:
    raw = getattr(loc, "raw", {}) or {}
    state = None
    iso = (raw.get("address") or {}).get("ISO3166-2-lvl4", "")
    if iso.startswith("US-"):
        state = iso[3:]
    return Place(
        name=loc.address,
        lat=float(loc.latitude),
        lon=float(loc.longitude),
        source="nominatim",
        state=state,
    )


_DEFAULT_CLIENT: NominatimClient | None = None


def default_client() -> NominatimClient:
    global _DEFAULT_CLIENT
    if _DEFAULT_CLIENT is None:
        _DEFAULT_CLIENT = NominatimClient()
    return _DEFAULT_CLIENT


# --- the one call the app uses ----------------------------------------------------------


def geocode(
    text: str, *, limit: int = 5, online: bool = True, client: NominatimClient | None = None
) -> list[Place]:
    """Places for ``text``, best first (see module docstring for the order of sources).

    Raises GeocodingError for empty or bad input, GeocoderOffline when only the network
    could have answered. Returns [] when an online search found nothing.
    """
    text = (text or "").strip()
    if not text:
        raise GeocodingError("type a place, an address or coordinates (LAT,LON)")
    point = parse_latlon(text)
    if point is not None:
        return [
            Place(
                name=f"{point[0]:.6f}, {point[1]:.6f}",
                lat=point[0],
                lon=point[1],
                source="coordinates",
            )
        ]
    if split_city_state(text) is not None:
        found = gazetteer_lookup(text, limit=limit)
        if found and found[0].state == split_city_state(text)[1]:
            return found
    if online:
        try:
            return (client or default_client()).search(text, limit=limit)
        except GeocoderOffline:
            pass
    found = gazetteer_lookup(text, limit=limit)
    if found:
        return found
    raise GeocoderOffline(OFFLINE_MESSAGE)
