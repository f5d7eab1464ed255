"""Reflex sees every table once, and ``kei-drive serve`` prints no SQLAlchemy warning for it."""

from __future__ import annotations

import warnings

import reflex as rx
from sqlmodel import SQLModel

import kei_drive.db.models  # noqa: F401  (defines the tables)
from kei_drive.server.launch import quiet_reflex_metadata_merge


def test_reflex_metadata_holds_every_table_once_without_a_warning():
    rx.ModelRegistry.register(kei_drive.db.models.User)  # as the app module does
    rx.ModelRegistry.register(kei_drive.db.models.Trip)
    rx.ModelRegistry._metadata = None  # recompute, as a fresh process does
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any other warning would raise here
        quiet_reflex_metadata_merge()
        metadata = rx.ModelRegistry.get_metadata()
    assert set(metadata.tables) == set(SQLModel.metadata.tables)
    assert {"users", "vehicles", "trips", "track_points"} <= set(metadata.tables)
