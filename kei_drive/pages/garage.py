"""Route ``/garage``: the driver's Kei vehicles (add, edit, delete).

Each vehicle shows its US 25-year import eligibility date (month of manufacture + 25
years; a countdown while it is not yet eligible) and its home state's Kei rule status.
Data goes through ``kei_drive.db.queries`` only.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx

from kei_drive.components.forms import save_cancel_row
from kei_drive.components.kei_status import status_badge
from kei_drive.components.layout import page_frame
from kei_drive.core.rules import RulesError, load_rules
from kei_drive.core.vehicles import parse_month
from kei_drive.db import ensure_migrated, session
from kei_drive.db import queries as q
from kei_drive.page_auth import SessionState, to_signin, user_id

DEFAULT_CAP_MPH = "45"
OLDEST_MODEL_YEAR = 1950  # the first Kei cars; anything older is a typo


def _state_names() -> list[tuple[str, str]]:
    try:
        book = load_rules()
    except RulesError:  # a broken override file must not take the garage down
        return []
    return [(r.state, r.name) for r in book.all_rules()]


STATE_NAMES = _state_names()


def countdown(today: date, target: date) -> str:
    """'1 year 5 months 6 days' from ``today`` until ``target`` (empty when reached)."""
    if target <= today:
        return ""
    months = (target.year - today.year) * 12 + target.month - today.month
    if target.day < today.day:
        months -= 1
    y, m = divmod(today.month - 1 + months, 12)
    anchor_year, anchor_month = today.year + y, m + 1
    # the day after `months` whole months (clamped to the month's length)
    day = min(today.day, _month_days(anchor_year, anchor_month))
    days = (target - date(anchor_year, anchor_month, day)).days
    years, months = divmod(months, 12)
    parts = [
        f"{n} {unit}{'s' if n != 1 else ''}"
        for n, unit in ((years, "year"), (months, "month"), (days, "day"))
        if n
    ]
    return " ".join(parts)


def _month_days(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - date(year, month, 1)).days


def _card(vehicle: q.Vehicle, today: date, rules: dict[str, Any]) -> dict[str, str]:
    data = q.vehicle_dict(vehicle, today)
    out = {
        "id": str(data["id"]),
        "nickname": data["nickname"],
        "title": data["title"] or "make and model not given",
        "manufactured": data["manufacture_month"] or "",
        "model_year": str(data["model_year"] or ""),
        "cap": f"{data['speed_cap_mph']:g} mph" if data["speed_cap_mph"] else "not set",
        "home_state": data["home_state"] or "",
        "home_name": "",
        "home_status": "",
        "home_advice": "",
        "eligible": "",
        "eligible_on": "",
        "eligible_month": "",
        "countdown": "",
        "days": "",
        "estimated": "",
    }
    rule = rules.get(out["home_state"])
    if rule is not None:
        out["home_name"] = rule.name
        out["home_status"] = rule.status
        out["home_advice"] = rule.advice()
    elig = data["import_eligibility"]
    if elig:
        on = date.fromisoformat(elig["eligible_on"])
        out["eligible"] = "yes" if elig["eligible"] else "no"
        out["eligible_on"] = on.isoformat()
        out["eligible_month"] = on.strftime("%Y-%m")
        out["countdown"] = countdown(today, on)
        out["days"] = str(elig["days_remaining"])
        out["estimated"] = "yes" if elig["estimated"] else ""
    return out


def _form_values(vehicle: q.Vehicle | None = None) -> dict[str, str]:
    if vehicle is None:
        return {k: "" for k in q.VEHICLE_FIELDS} | {"speed_cap_mph": DEFAULT_CAP_MPH}
    values = {k: getattr(vehicle, k) for k in q.VEHICLE_FIELDS}
    cap = values["speed_cap_mph"]
    values["speed_cap_mph"] = f"{cap:g}" if cap else ""
    return {k: "" if v is None else str(v) for k, v in values.items()}


def clean_vehicle_form(form: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """Form strings -> fields for ``create_vehicle``/``update_vehicle``; ``ValueError`` with
    a message a driver understands."""
    today = today or date.today()
    text = {k: str(form.get(k) or "").strip() for k in q.VEHICLE_FIELDS}
    if not text["nickname"]:
        raise ValueError("Give the vehicle a nickname (e.g. 'Blue Sambar').")
    year: int | None = None
    if text["model_year"]:
        if not text["model_year"].isdigit():
            raise ValueError(f"Model year must be a year like 1991, got {text['model_year']!r}.")
        year = int(text["model_year"])
        if not OLDEST_MODEL_YEAR <= year <= today.year + 1:
            raise ValueError(
                f"Model year must be between {OLDEST_MODEL_YEAR} and {today.year + 1}, got {year}."
            )
    month = text["manufacture_month"] or None
    if month:
        try:
            m_year, m_month = parse_month(month)
        except ValueError:
            raise ValueError(
                f"Month of manufacture must look like 1991-03 (year-month), got {month!r}."
            ) from None
        if not OLDEST_MODEL_YEAR - 1 <= m_year <= today.year:
            raise ValueError(f"Month of manufacture {month} is not a plausible build date.")
        if year is not None and abs(m_year - year) > 1:
            raise ValueError(
                f"Month of manufacture {month} does not match model year {year} "
                "(they may differ by at most one year)."
            )
        month = f"{m_year:04d}-{m_month:02d}"
    cap: float | None = None
    if text["speed_cap_mph"]:
        try:
            cap = float(text["speed_cap_mph"])
        except ValueError:
            cap = None
        if cap is None or not 5 <= cap <= 150:
            raise ValueError(
                f"Speed cap must be a number of mph from 5 to 150, got {text['speed_cap_mph']!r}."
            )
    state = text["home_state"].upper() or None
    if state and STATE_NAMES and state not in dict(STATE_NAMES):
        raise ValueError(f"Unknown home state {state!r}.")
    return {
        "nickname": text["nickname"],
        "make": text["make"] or None,
        "model": text["model"] or None,
        "model_year": year,
        "manufacture_month": month,
        "speed_cap_mph": cap,
        "home_state": state,
    }


class GarageState(rx.State):
    vehicles: list[dict[str, str]] = []
    form_open: bool = False
    editing_id: int = 0  # 0 = adding a new vehicle
    form: dict[str, str] = {}
    form_key: int = 0
    form_error: str = ""
    confirm_delete: str = ""  # id of the vehicle awaiting delete confirmation
    flash: str = ""
    load_error: str = ""
    loaded: bool = False  # set once on_load has read the database

    def _reload(self) -> None:
        today = date.today()
        uid = user_id(self)
        if uid is None:  # signed out: nothing to show (the page sends them to sign in)
            self.vehicles, self.loaded = [], True
            return
        try:
            rules = {r.state: r for r in load_rules().all_rules(today)}
        except RulesError:
            rules = {}
        try:
            ensure_migrated()
            with session() as s:
                self.vehicles = [_card(v, today, rules) for v in q.list_vehicles(s, uid)]
            self.load_error = ""
        except Exception as exc:  # show the database problem instead of a blank page
            self.load_error = f"Could not read the garage: {exc}"
        self.loaded = True

    @rx.event
    def on_load(self):
        self.flash = ""
        self.confirm_delete = ""
        self._reload()
        if not self.vehicles and not self.load_error:
            self._open(None)

    def _open(self, vehicle: q.Vehicle | None) -> None:
        self.form = _form_values(vehicle)
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
            with session() as s:
                vehicle = q.get_vehicle(s, int(vehicle_id), uid)  # not mine: NotFound
        except (q.NotFound, ValueError):
            self.flash = "That vehicle no longer exists."
            self._reload()
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
            ensure_migrated()
            with session() as s:
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
        self._reload()

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
            with session() as s:
                name = q.get_vehicle(s, int(vehicle_id), uid).nickname
                q.delete_vehicle(s, int(vehicle_id), uid)
            self.flash = f"Deleted {name}. Its trips are kept, without a vehicle."
        except (q.NotFound, ValueError):
            self.flash = "That vehicle was already deleted."
        if str(self.editing_id) == vehicle_id:
            self.form_open = False
        self._reload()


# ------------------------------------------------------------------------------ view


def text_input(ident: str, name: str, value: Any, placeholder: str) -> rx.Component:
    return rx.el.input(
        id=ident,
        name=name,
        default_value=value,
        placeholder=placeholder,
        class_name="kd-field",
        max_length=80,
    )


def field(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    """A label above its control (the control's ``id`` links them) and an optional hint."""
    return rx.el.div(
        rx.el.label(label, html_for=str(control.id)),
        control,
        *([rx.el.div(hint, class_name="kd-hint-text")] if hint else []),
        class_name="kd-form-field",
    )


def vehicle_form() -> rx.Component:
    f = GarageState.form
    return rx.form(
        rx.el.h2(
            rx.cond(GarageState.editing_id > 0, "Edit vehicle", "Add a vehicle"), id="form-title"
        ),
        rx.el.div(
            field(
                "Nickname",
                text_input("vehicle-nickname", "nickname", f["nickname"], "Blue Sambar"),
            ),
            field(
                "Make",
                text_input("vehicle-make", "make", f["make"], "Subaru"),
            ),
            field(
                "Model",
                text_input("vehicle-model", "model", f["model"], "Sambar"),
            ),
            field(
                "Model year",
                rx.el.input(
                    id="vehicle-year",
                    name="model_year",
                    default_value=f["model_year"],
                    placeholder="1991",
                    input_mode="numeric",
                    class_name="kd-field",
                ),
            ),
            field(
                "Month of manufacture",
                rx.el.input(
                    id="vehicle-month",
                    name="manufacture_month",
                    type="month",
                    default_value=f["manufacture_month"],
                    placeholder="1991-03",
                    class_name="kd-field",
                ),
                "On the chassis plate or export certificate (YYYY-MM).",
            ),
            field(
                "Personal speed cap (mph)",
                rx.el.input(
                    id="vehicle-cap",
                    name="speed_cap_mph",
                    default_value=f["speed_cap_mph"],
                    input_mode="decimal",
                    class_name="kd-field",
                ),
                "The Drive screen warns above it.",
            ),
            field(
                "Home state",
                rx.el.select(
                    rx.el.option("— not set —", value=""),
                    *[rx.el.option(f"{name} ({code})", value=code) for code, name in STATE_NAMES],
                    id="vehicle-home",
                    name="home_state",
                    default_value=f["home_state"],
                    class_name="kd-field",
                ),
            ),
            class_name="kd-vehicle-grid",
        ),
        rx.cond(
            GarageState.form_error != "",
            rx.el.div(
                GarageState.form_error, id="vehicle-form-error", class_name="kd-error", role="alert"
            ),
        ),
        save_cancel_row(
            "Save", "vehicle-save", GarageState.cancel_form, save_class="kd-btn kd-btn-start"
        ),
        key=GarageState.form_key,
        on_submit=GarageState.save_vehicle,
        id="vehicle-form",
        class_name="kd-detail",
    )


def eligibility(v: rx.Var) -> rx.Component:
    return rx.cond(
        v["eligible"] == "",
        rx.el.p(
            "Import eligibility: add a model year or month of manufacture.", class_name="kd-note"
        ),
        rx.cond(
            v["eligible"] == "yes",
            rx.el.div(
                rx.el.strong("25-year import eligible"),
                " since ",
                v["eligible_month"],
                " (from ",
                v["eligible_on"],
                ").",
                class_name="kd-elig kd-elig-yes",
            ),
            rx.el.div(
                rx.el.strong("Import-eligible from ", v["eligible_month"]),
                " (",
                v["eligible_on"],
                ")",
                rx.el.div(
                    "in ",
                    rx.el.span(v["countdown"], class_name="kd-countdown-value"),
                    " — ",
                    v["days"],
                    " days",
                    class_name="kd-countdown",
                ),
                class_name="kd-elig kd-elig-no",
            ),
        ),
    )


def vehicle_card(v: rx.Var) -> rx.Component:
    return rx.el.article(
        rx.el.div(
            rx.el.h2(v["nickname"], class_name="kd-vehicle-name"),
            rx.el.span(v["title"], class_name="kd-vehicle-title"),
            class_name="kd-vehicle-head",
        ),
        eligibility(v),
        rx.cond(
            v["estimated"] == "yes",
            rx.el.p(
                "Estimated from the model year (December assumed): add the month of manufacture.",
                class_name="kd-note",
            ),
        ),
        rx.el.dl(
            rx.el.div(
                rx.el.dt("Built"),
                rx.el.dd(rx.cond(v["manufactured"] != "", v["manufactured"], "month unknown")),
                class_name="kd-fact",
            ),
            rx.el.div(rx.el.dt("Speed cap"), rx.el.dd(v["cap"]), class_name="kd-fact"),
            rx.el.div(
                rx.el.dt("Home state"),
                rx.el.dd(
                    rx.cond(
                        v["home_state"] != "",
                        rx.el.a(
                            v["home_name"],
                            " (",
                            v["home_state"],
                            ")",
                            href="/states?state=" + v["home_state"].to(str),
                        ),
                        "not set",
                    )
                ),
                class_name="kd-fact",
            ),
            class_name="kd-facts",
        ),
        rx.cond(
            v["home_status"] != "",
            rx.el.div(
                status_badge(v["home_status"].to(str)),
                rx.el.span(v["home_advice"], class_name="kd-home-advice"),
                class_name="kd-row kd-home-rule",
            ),
        ),
        rx.cond(
            GarageState.confirm_delete == v["id"],
            rx.el.div(
                rx.el.span(
                    "Delete ", v["nickname"], "? Its trips are kept.", class_name="kd-confirm-text"
                ),
                rx.el.button(
                    "Yes, delete",
                    on_click=GarageState.delete_vehicle(v["id"]),
                    class_name="kd-btn kd-btn-stop kd-confirm-delete",
                ),
                rx.el.button(
                    "Keep", on_click=GarageState.cancel_delete, class_name="kd-btn kd-btn-quiet"
                ),
                class_name="kd-row kd-confirm",
            ),
            rx.el.div(
                rx.el.button(
                    "Edit", on_click=GarageState.edit_vehicle(v["id"]), class_name="kd-btn kd-edit"
                ),
                rx.el.button(
                    "Delete",
                    on_click=GarageState.ask_delete(v["id"]),
                    class_name="kd-btn kd-btn-danger kd-delete",
                ),
                class_name="kd-row",
            ),
        ),
        custom_attrs={"data-id": v["id"], "data-nickname": v["nickname"]},
        class_name="kd-vehicle",
    )


@rx.page(
    route="/garage",
    title="Garage · Kei Drive",
    on_load=[SessionState.require_user, GarageState.on_load],
)
def garage_page() -> rx.Component:
    return page_frame(
        rx.el.link(rel="stylesheet", href="/kei/states.css"),
        rx.el.link(rel="stylesheet", href="/kei/garage.css"),
        rx.el.div(
            rx.el.h1("Garage", class_name="kd-title"),
            rx.cond(
                ~GarageState.form_open,
                rx.el.button(
                    "Add vehicle",
                    id="vehicle-add",
                    on_click=GarageState.add_vehicle,
                    class_name="kd-btn",
                ),
            ),
            class_name="kd-detail-head",
        ),
        rx.el.p(
            "Your Kei trucks and vans. A vehicle may be imported to the US once it is 25 years "
            "old, counted from the month of manufacture (49 U.S.C. 30112(b)(9)).",
            class_name="kd-note",
        ),
        rx.cond(
            GarageState.load_error != "",
            rx.el.div(GarageState.load_error, class_name="kd-error", id="garage-error"),
        ),
        rx.cond(
            GarageState.flash != "",
            rx.el.div(GarageState.flash, class_name="kd-flash", id="garage-flash"),
        ),
        rx.cond(GarageState.form_open, vehicle_form()),
        rx.el.div(
            rx.foreach(GarageState.vehicles, vehicle_card),
            id="vehicle-list",
            custom_attrs={"data-loaded": rx.cond(GarageState.loaded, "yes", "no")},
        ),
        rx.cond(
            (GarageState.vehicles.length() == 0) & ~GarageState.form_open,
            rx.el.p("No vehicles yet.", class_name="kd-note"),
        ),
    )
