"""Encoded polylines (Valhalla uses precision 6)."""

from __future__ import annotations


def decode(encoded: str, precision: int = 6) -> list[tuple[float, float]]:
    """Decode to [(lat, lon), ...]."""
    factor = 10.0**precision
    points: list[tuple[float, float]] = []
    index = lat = lon = 0
    n = len(encoded)
    while index < n:
        deltas = []
        for _ in range(2):
            shift = result = 0
            while True:
                b = ord(encoded[index]) - 63
                index += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20:
                    break
            deltas.append(~(result >> 1) if result & 1 else result >> 1)
        lat += deltas[0]
        lon += deltas[1]
        points.append((lat / factor, lon / factor))
    return points


def encode(points: list[tuple[float, float]], precision: int = 6) -> str:
    """Encode [(lat, lon), ...]."""
    factor = 10.0**precision
    out: list[str] = []
    prev_lat = prev_lon = 0
    for lat, lon in points:
        ilat, ilon = round(lat * factor), round(lon * factor)
        for delta in (ilat - prev_lat, ilon - prev_lon):
            value = ~(delta << 1) if delta < 0 else delta << 1
            while value >= 0x20:
                out.append(chr((0x20 | (value & 0x1F)) + 63))
                value >>= 5
            out.append(chr(value + 63))
        prev_lat, prev_lon = ilat, ilon
    return "".join(out)
