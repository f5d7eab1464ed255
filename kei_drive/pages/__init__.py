"""Every page of the app; importing this package registers them with Reflex."""

from kei_drive.pages import drive, garage, plan, states, trip_detail, trips  # noqa: F401
