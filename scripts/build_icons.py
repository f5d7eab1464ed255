"""Generate the PWA icons (assets/icons/*.png) with numpy and zlib only.

The design is a front view of a cab-over Kei truck on an amber field. Run:
    python scripts/build_icons.py
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "assets" / "icons"
AMBER = (245, 166, 35)
INK = (24, 26, 31)
GLASS = (150, 200, 230)
WHITE = (250, 250, 250)


def write_png(path: Path, rgba: np.ndarray) -> None:
    height, width, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[y].tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    path.write_bytes(png)


def rounded_box(xx, yy, x0, y0, x1, y1, radius):
    """Mask of a rounded rectangle in unit coordinates."""
    cx = np.clip(xx, x0 + radius, x1 - radius)
    cy = np.clip(yy, y0 + radius, y1 - radius)
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2


def draw(size: int, *, maskable: bool) -> np.ndarray:
    # Supersample 4x for smooth edges, then average down.
    s = size * 4
    yy, xx = np.mgrid[0:s, 0:s] / s
    img = np.zeros((s, s, 4), dtype=float)

    def paint(mask, color):
        img[mask, :3] = color
        img[mask, 3] = 255

    background = np.ones_like(xx, dtype=bool) if maskable else rounded_box(xx, yy, 0, 0, 1, 1, 0.18)
    paint(background, AMBER)
    # Maskable icons keep the drawing inside the 80% safe zone.
    scale, offset = (0.62, 0.19) if maskable else (0.78, 0.11)
    ux, uy = (xx - offset) / scale, (yy - offset) / scale
    paint(rounded_box(ux, uy, 0.08, 0.05, 0.92, 0.84, 0.10), INK)  # cab
    paint(rounded_box(ux, uy, 0.16, 0.13, 0.84, 0.45, 0.05), GLASS)  # windshield
    for cx in (0.24, 0.76):  # headlights
        paint((ux - cx) ** 2 + (uy - 0.62) ** 2 <= 0.075**2, WHITE)
    paint(rounded_box(ux, uy, 0.38, 0.58, 0.62, 0.66, 0.02), AMBER)  # badge
    for x0 in (0.12, 0.70):  # wheels
        paint(rounded_box(ux, uy, x0, 0.80, x0 + 0.18, 0.97, 0.04), INK)
    small = img.reshape(size, 4, size, 4, 4).mean(axis=(1, 3))
    return np.round(small).astype(np.uint8)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        write_png(OUT / f"icon-{size}.png", draw(size, maskable=False))
    write_png(OUT / "icon-maskable-512.png", draw(512, maskable=True))
    write_png(OUT / "apple-touch-icon.png", draw(180, maskable=True))
    write_png(OUT / "favicon-32.png", draw(32, maskable=False))
    print(f"icons written to {OUT}")


if __name__ == "__main__":
    main()
