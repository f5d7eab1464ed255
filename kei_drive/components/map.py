"""A Leaflet map (assets/kei/map.jsx) of GeoJSON layers over the bundled state lines.

Works offline: state outlines come from the app; OpenStreetMap raster tiles are drawn
underneath when reachable (``KEI_DRIVE_TILE_URL`` changes the source, empty disables).
"""

import os
from typing import Any

import reflex as rx

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


def tile_url() -> str:
    return os.environ.get("KEI_DRIVE_TILE_URL", DEFAULT_TILE_URL)


class KeiMap(rx.NoSSRComponent):
    library = "$/public/kei/map.jsx"
    tag = "KeiMap"
    lib_dependencies: list[str] = ["leaflet@1.9.4"]

    # [{"id", "geojson", "color", "weight", "property"}]
    layers: rx.Var[list[dict[str, Any]]]
    # {"FL": "restricted", ...}: colours each state by Kei status
    state_status: rx.Var[dict[str, str]]
    # [[south, west], [north, east]]: the initial view when there are no layers to fit
    fit_bounds: rx.Var[list[list[float]]]
    state_fill_opacity: rx.Var[float]
    # re-fit the view to the layers only when this changes (default: on every change)
    fit_key: rx.Var[str]
    tile_url: rx.Var[str]
    height: rx.Var[str]
    map_id: rx.Var[str]
    on_state_click: rx.EventHandler[lambda code: [code]]


LOWER_48 = [[30.0, -119.5], [47.0, -72.5]]  # slightly inset: a phone fits it at zoom 3


def kei_map(**props: Any) -> rx.Component:
    props.setdefault("tile_url", tile_url())
    return KeiMap.create(**props)
