"""A Leaflet map (assets/kei/map.jsx) of GeoJSON layers over the bundled state lines.

Underneath, the offline Kei basemap (``/tiles``, built by ``kei-drive tiles build``, drawn in
the Kei style of ``assets/kei/basemap_style.js``) when one is installed; otherwise online
raster tiles from ``config.raster_tile_url()`` (``KEI_DRIVE_TILE_URL``; empty disables).
The map decides in the browser (``/tiles/basemap.json``), so a basemap built after the app
started is used on the next page load.
"""

from typing import Any

import reflex as rx

from kei_drive import config

# npm packages of the map; Reflex installs them into the frontend build (see reflex.lock).
LEAFLET = "leaflet@1.9.4"
PROTOMAPS_LEAFLET = "protomaps-leaflet@5.1.0"


class KeiMap(rx.NoSSRComponent):
    library = "$/public/kei/map.jsx"
    tag = "KeiMap"
    lib_dependencies: list[str] = [LEAFLET, PROTOMAPS_LEAFLET]

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
    # the Kei cap (mph) the basemap marks faster roads against (default: the state at the centre)
    speed_cap_mph: rx.Var[float]
    # "day" | "night" | "auto" (by the clock)
    map_theme: rx.Var[str]
    # store the basemap along the route's lines for offline use (2 km, zooms 10-16)
    prefetch_route: rx.Var[bool]
    # show a "Download this area" button
    offline_button: rx.Var[bool]
    height: rx.Var[str]
    map_id: rx.Var[str]
    on_state_click: rx.EventHandler[lambda code: [code]]


class KeiMapLegend(rx.NoSSRComponent):
    """The legend of the Kei basemap style (same colours and patterns as the map)."""

    library = "$/public/kei/map_legend.jsx"
    tag = "KeiMapLegend"

    map_theme: rx.Var[str]


LOWER_48 = [[30.0, -119.5], [47.0, -72.5]]  # slightly inset: a phone fits it at zoom 3


def kei_map(**props: Any) -> rx.Component:
    props.setdefault("tile_url", config.raster_tile_url())
    return KeiMap.create(**props)


def map_legend(**props: Any) -> rx.Component:
    return KeiMapLegend.create(**props)
