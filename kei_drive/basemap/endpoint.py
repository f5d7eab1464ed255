"""Serve the offline basemap over HTTP (a Starlette app mounted at ``/tiles`` with the API).

- ``GET /tiles/{z}/{x}/{y}.pbf``  the vector tile as stored (gzip, ``Content-Encoding: gzip``),
  cacheable for 30 days (ETag = build id + tile); ``204`` where the basemap has no tile
  (outside the extract, or above its maximum zoom: the map overzooms the z14 tiles);
  ``400`` for coordinates that do not exist; ``404`` when no basemap is installed.
- ``GET /tiles/basemap.json``    TileJSON plus ``build_id`` and per-zoom tile sizes (the page
  uses it to pick the basemap, and the service worker to drop tiles of an older build);
  ``404`` when no basemap is installed, so maps fall back to online raster tiles.

The file is ``kei_drive.config.basemap_path()``, looked up on every request (a rebuild is
picked up without a restart).
"""

from __future__ import annotations

import gzip

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kei_drive import config
from kei_drive.basemap.reader import GZIP_MAGIC, Basemap, open_basemap

TILE_URL = "/tiles/{z}/{x}/{y}.pbf"
MVT_TYPE = "application/vnd.mapbox-vector-tile"
TILE_CACHE = "public, max-age=2592000"  # 30 days: tiles change only when the driver rebuilds
EMPTY_CACHE = "public, max-age=86400"
META_CACHE = "no-cache"  # always revalidate: tells the page whether a basemap exists
MAX_ZOOM = 24
NO_BASEMAP = "no offline basemap installed: run `kei-drive tiles build REGION.osm.pbf`"


def _basemap() -> Basemap | None:
    return open_basemap(config.basemap_path())


def _missing() -> Response:
    headers = {"Cache-Control": "no-store"}
    return JSONResponse({"error": NO_BASEMAP}, status_code=404, headers=headers)


def tile(request: Request) -> Response:
    z, x, y = (request.path_params[k] for k in ("z", "x", "y"))
    if z > MAX_ZOOM or x >= (1 << z) or y >= (1 << z):
        return JSONResponse(
            {"error": f"no tile {z}/{x}/{y}: x and y must be below 2^z"}, status_code=400
        )
    basemap = _basemap()
    if basemap is None:
        return _missing()
    etag = f'"{basemap.build_id}-{z}-{x}-{y}"'
    data = basemap.tile(z, x, y) if z <= basemap.maxzoom else None
    if data is None:
        return Response(status_code=204, headers={"Cache-Control": EMPTY_CACHE, "ETag": etag})
    headers = {
        "Cache-Control": TILE_CACHE,
        "ETag": etag,
        "Vary": "Accept-Encoding",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    if data.startswith(GZIP_MAGIC):
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
        else:  # a client that cannot inflate gets the plain tile
            data = gzip.decompress(data)
    return Response(data, media_type=MVT_TYPE, headers=headers)


def tilejson(_request: Request) -> Response:
    basemap = _basemap()
    if basemap is None:
        return _missing()
    return JSONResponse(basemap.tilejson(TILE_URL), headers={"Cache-Control": META_CACHE})


routes = [
    Route("/basemap.json", tilejson, methods=["GET"]),
    Route("/{z:int}/{x:int}/{y:int}.pbf", tile, methods=["GET"]),
]

app = Starlette(routes=routes)
