"""The offline Kei basemap: built from the driver's OSM extract with tilemaker (``build``),
read from its MBTiles file (``reader``) and served at ``/tiles/{z}/{x}/{y}.pbf`` (``endpoint``).
The style that draws it is in ``assets/kei/basemap_style.js``.
"""
