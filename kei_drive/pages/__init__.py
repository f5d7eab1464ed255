"""Every page of the app; importing this package registers them with Reflex."""

from kei_drive.pages import drive  # noqa: F401
