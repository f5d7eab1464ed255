"""Reflex configuration. Settings come from the environment (see kei_drive/config.py)."""

import reflex as rx

from kei_drive import config as kei_config

config = rx.Config(
    app_name="kei_drive",
    db_url=kei_config.database_url(),
    redis_url=kei_config.redis_url(),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(appearance="dark", accent_color="amber"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
