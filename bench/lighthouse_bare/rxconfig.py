"""The bare comparison app of bench/bench_lighthouse.py: Reflex's defaults, one page."""

import reflex as rx

config = rx.Config(app_name="bare_number", telemetry_enabled=False)
