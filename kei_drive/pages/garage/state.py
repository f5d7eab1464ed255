"""The garage's state: the vehicle cards and the add/edit form."""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx

from kei_drive.core.rules import RulesError
from kei_drive.core.vehicles import clean_vehicle_form
from kei_drive.db import app_session
from kei_drive.db import queries as q
from kei_drive.page_auth import to_signin, user_id
from kei_drive.presenters.vehicles import VehicleCard, form_values, vehicle_card
from kei_drive.services.us_states import user_rules


class GarageState(rx.State):
    vehicles: list[VehicleCard] = []
    form_open: bool = False
    editing_id: int = 0  # 0 = adding a new vehicle
    form: dict[str, str] = {}
    form_key: int = 0
    form_error: str = ""
    confirm_delete: str = ""  # id of the vehicle awaiting delete confirmation
    flash: str = ""
    load_error: str = ""
    loaded: bool = False  # set once on_load has read the database

    def _load(self) -> None:
        today = date.today()
        uid = user_id(self)
        if uid is None:  # signed out: nothing to show (the page sends them to sign in)
            self.vehicles, self.loaded = [], True
            return
        try:
            rules = {r.state: r for r in user_rules(uid).all_rules(today)}
        except RulesError:  # broken overrides must not take the garage down
            rules = {}
        try:
            with app_session() as s:
                self.vehicles = [vehicle_card(v, today, rules) for v in q.list_vehicles(s, uid)]
            self.load_error = ""
        except Exception as exc:  # show the database problem instead of a blank page
            self.load_error = f"Could not read the garage: {exc}"
        self.loaded = True

    @rx.event
    def on_load(self):
        self.flash = ""
        self.confirm_delete = ""
        self._load()
        if not self.vehicles and not self.load_error:
            self._open(None)

    def _open(self, vehicle: q.Vehicle | None) -> None:
        self.form = form_values(vehicle)
        self.editing_id = vehicle.id if vehicle is not None else 0
        self.form_key += 1
        self.form_error = ""
        self.form_open = True

    @rx.event
    def add_vehicle(self):
        self.flash = ""
        self._open(None)

    @rx.event
    def edit_vehicle(self, vehicle_id: str):
        self.flash = ""
        try:
            uid = user_id(self)
            if uid is None:
                return to_signin()
            with app_session() as s:
                vehicle = q.get_vehicle(s, int(vehicle_id), uid)  # not mine: NotFound
        except (q.NotFound, ValueError):
            self.flash = "That vehicle no longer exists."
            self._load()
            return
        self._open(vehicle)
        return rx.scroll_to("vehicle-form")

    @rx.event
    def cancel_form(self):
        self.form_open = False
        self.form_error = ""

    @rx.event
    def save_vehicle(self, form_data: dict[str, Any]):
        uid = user_id(self)
        if uid is None:
            return to_signin()
        try:
            fields = clean_vehicle_form(form_data)
            with app_session() as s:
                if self.editing_id:
                    vehicle = q.update_vehicle(s, self.editing_id, uid, **fields)
                else:
                    nickname = fields.pop("nickname")
                    vehicle = q.create_vehicle(s, nickname, uid, **fields)
                name = vehicle.nickname
        except q.NotFound:
            self.form_error = "That vehicle no longer exists."
            return
        except ValueError as exc:
            self.form_error = str(exc)
            return
        self.flash = f"Saved {name}."
        self.form_open = False
        self.form_error = ""
        self._load()

    @rx.event
    def ask_delete(self, vehicle_id: str):
        self.confirm_delete = vehicle_id

    @rx.event
    def cancel_delete(self):
        self.confirm_delete = ""

    @rx.event
    def delete_vehicle(self, vehicle_id: str):
        self.confirm_delete = ""
        uid = user_id(self)
        if uid is None:
            return to_signin()
        try:
            with app_session() as s:
                name = q.get_vehicle(s, int(vehicle_id), uid).nickname
                q.delete_vehicle(s, int(vehicle_id), uid)
            self.flash = f"Deleted {name}. Its trips are kept, without a vehicle."
        except (q.NotFound, ValueError):
            self.flash = "That vehicle was already deleted."
        if str(self.editing_id) == vehicle_id:
            self.form_open = False
        self._load()
