"""Vehicles in words: the JSON the API/CLI print, the garage cards, the form's values and
the import-eligibility countdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from kei_drive.core.vehicles import DEFAULT_TOP_SPEED_MPH, VEHICLE_FIELDS, import_eligibility

if TYPE_CHECKING:
    from kei_drive.core.rules import KeiRule
    from kei_drive.db.models import Vehicle


def vehicle_title(vehicle: Vehicle) -> str:
    """ "1991 Subaru Sambar" ("" when none of the three is known)."""
    return " ".join(str(v) for v in (vehicle.model_year, vehicle.make, vehicle.model) if v)


def vehicle_dict(vehicle: Vehicle, today: date | None = None) -> dict[str, Any]:
    """A JSON-ready vehicle with its import eligibility (None without a date)."""
    out = {k: getattr(vehicle, k) for k in ("id", *VEHICLE_FIELDS)}
    out["title"] = vehicle_title(vehicle)
    out["import_eligibility"] = None
    if vehicle.model_year or vehicle.manufacture_month:
        e = import_eligibility(vehicle.model_year, vehicle.manufacture_month, today)
        out["import_eligibility"] = {
            "eligible_on": e.eligible_on.isoformat(),
            "eligible": e.eligible,
            "days_remaining": e.days_remaining,
            "estimated": e.estimated,
        }
    return out


def cap_text(speed_cap_mph: float | None) -> str:
    """The select option / form text of a cap: "45" ("" when not set)."""
    return f"{speed_cap_mph:g}" if speed_cap_mph else ""


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


@dataclass
class VehicleCard:
    """One vehicle on the garage page."""

    id: str
    nickname: str
    title: str
    manufactured: str = ""
    model_year: str = ""
    cap: str = ""
    home_state: str = ""
    home_name: str = ""
    home_status: str = ""
    home_advice: str = ""
    has_eligibility: bool = False  # a model year or month of manufacture is known
    eligible: bool = False
    eligible_on: str = ""
    eligible_month: str = ""
    countdown: str = ""
    days: str = ""
    estimated: bool = False


def vehicle_card(vehicle: Vehicle, today: date, rules: dict[str, KeiRule]) -> VehicleCard:
    """``rules``: the rule in force today per USPS code (for the home state's status)."""
    card = VehicleCard(
        id=str(vehicle.id),
        nickname=vehicle.nickname,
        title=vehicle_title(vehicle) or "make and model not given",
        manufactured=vehicle.manufacture_month or "",
        model_year=str(vehicle.model_year or ""),
        cap=f"{vehicle.speed_cap_mph:g} mph" if vehicle.speed_cap_mph else "not set",
        home_state=vehicle.home_state or "",
    )
    rule = rules.get(card.home_state)
    if rule is not None:
        card.home_name, card.home_status, card.home_advice = rule.name, rule.status, rule.advice()
    if vehicle.model_year or vehicle.manufacture_month:
        e = import_eligibility(vehicle.model_year, vehicle.manufacture_month, today)
        card.has_eligibility = True
        card.eligible = e.eligible
        card.eligible_on = e.eligible_on.isoformat()
        card.eligible_month = e.eligible_on.strftime("%Y-%m")
        card.countdown = countdown(today, e.eligible_on)
        card.days = str(e.days_remaining)
        card.estimated = e.estimated
    return card


def form_values(vehicle: Vehicle | None = None) -> dict[str, str]:
    """The garage form's initial text (a new vehicle starts at the default cap)."""
    if vehicle is None:
        return {k: "" for k in VEHICLE_FIELDS} | {"speed_cap_mph": f"{DEFAULT_TOP_SPEED_MPH:g}"}
    values = {k: getattr(vehicle, k) for k in VEHICLE_FIELDS}
    values["speed_cap_mph"] = cap_text(values["speed_cap_mph"])
    return {k: "" if v is None else str(v) for k, v in values.items()}


@dataclass
class VehicleOption:
    """A vehicle in a picker: its id as text, a label and its cap as text ("" if unset)."""

    value: str
    label: str
    speed: str = ""


def vehicle_options(vehicles: list[Vehicle], with_cap: bool = False) -> list[VehicleOption]:
    """Picker entries; ``with_cap`` adds "(top speed 45 mph)" to the label (Plan page)."""
    out = []
    for v in vehicles:
        label = v.nickname
        if with_cap and v.speed_cap_mph:
            label += f" (top speed {v.speed_cap_mph:g} mph)"
        out.append(VehicleOption(str(v.id), label, cap_text(v.speed_cap_mph)))
    return out
