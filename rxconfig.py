"""Reflex configuration. Settings come from the environment (see kei_drive/config.py)."""

import reflex as rx

from kei_drive import config as kei_config
from kei_drive.first_paint import FirstPaintPlugin

config = rx.Config(
    app_name="kei_drive",
    db_url=kei_config.database_url(),
    redis_url=kei_config.redis_url(),
    telemetry_enabled=False,
    # Per-tab state (in memory, or Redis) is dropped after this long without an event:
    # Reflex's default of an hour let throw-away websocket sessions hold ~1 MB each.
    redis_token_expiration=kei_config.STATE_EXPIRY_S,
    show_built_with_reflex=False,
    plugins=[
        rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="dark", accent_color="amber")),
        FirstPaintPlugin(),  # the Drive screen paints before the app's code loads
    ],
    # Brotli first (~20% smaller than gzip; browsers ask for it over https and on localhost).
    frontend_compression_formats=["brotli", "gzip"],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
