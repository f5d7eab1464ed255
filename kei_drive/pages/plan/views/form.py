"""The Plan page's inputs: the From/To form with its options, and the GPX route check."""

from __future__ import annotations

import reflex as rx

from kei_drive import config
from kei_drive.components.refused_files import refusal_records
from kei_drive.pages.plan.state import PlanState
from kei_drive.services.planning import MAX_TOP_SPEED_MPH, MIN_TOP_SPEED_MPH

GEOLOCATE_JS = """(new Promise((resolve) => {
  if (!navigator.geolocation) {
    resolve({error: "this browser cannot share its location"});
    return;
  }
  navigator.geolocation.getCurrentPosition(
    (p) => resolve({lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy}),
    (e) => resolve({error: e.code === 1 ? "permission denied" : (e.message || "no position")}),
    {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
}))"""


def _field_label(text: str, for_id: str) -> rx.Component:
    return rx.el.label(text, html_for=for_id, class_name="kp-label")


def _candidates(items, pick, prefix: str) -> rx.Component:
    return rx.cond(
        items.length() > 0,
        rx.el.div(
            rx.el.div("Which one do you mean?", class_name="kp-candidates-head"),
            rx.foreach(
                items,
                lambda c, i: rx.el.button(
                    rx.el.span(c.name),
                    rx.el.span(c.detail, class_name="kp-attr"),
                    rx.el.span(c.attribution, class_name="kp-attr"),
                    type="button",
                    on_click=pick(i),
                    class_name="kd-btn kp-candidate",
                ),
            ),
            id=f"{prefix}-candidates",
            class_name="kp-candidates",
        ),
    )


def _field_error(text) -> rx.Component:
    return rx.cond(text != "", rx.el.div(text, class_name="kp-field-error", role="alert"))


def _check(label: str, checked, on_change, id_: str) -> rx.Component:
    return rx.el.label(
        rx.checkbox(checked=checked, on_change=on_change, id=id_, name=id_, size="3"),
        rx.el.span(label),
        class_name="kp-check",
    )


def _inline(label: str, control: rx.Component) -> rx.Component:
    return rx.el.label(rx.el.span(label), control, class_name="kp-inline")


def _options() -> rx.Component:
    s = PlanState
    return rx.el.details(
        rx.el.summary(
            "Options · ",
            s.top_speed,
            " mph",
            rx.cond(s.avoid_banned, " · no banned states", ""),
            class_name="kp-summary",
            id="plan-options-summary",
        ),
        rx.el.div(
            rx.cond(
                s.vehicles.length() > 0,
                _inline(
                    "Vehicle",
                    rx.el.select(
                        rx.foreach(s.vehicles, lambda v: rx.el.option(v.label, value=v.value)),
                        id="plan-vehicle",
                        name="vehicle",
                        value=s.vehicle,
                        on_change=s.set_vehicle,
                        class_name="kp-select",
                    ),
                ),
            ),
            _inline(
                "Top speed (mph)",
                rx.input(
                    id="plan-top-speed",
                    name="top_speed",
                    type="number",
                    min=f"{MIN_TOP_SPEED_MPH:g}",
                    max=f"{MAX_TOP_SPEED_MPH:g}",
                    value=s.top_speed,
                    on_change=s.set_top_speed,
                    size="3",
                    class_name="kp-speed",
                ),
            ),
            _inline(
                "Date (rules in force)",
                rx.input(
                    id="plan-date",
                    name="date",
                    type="date",
                    value=s.trip_date,
                    on_change=s.set_trip_date,
                    size="3",
                ),
            ),
            _check("Avoid trunk roads", s.avoid_trunks, s.set_avoid_trunks, "plan-avoid-trunks"),
            _check(
                "Avoid roads posted above the state's Kei cap",
                s.avoid_over_cap,
                s.set_avoid_over_cap,
                "plan-avoid-cap",
            ),
            _check(
                "Avoid states that ban Kei vehicles",
                s.avoid_banned,
                s.set_avoid_banned,
                "plan-avoid-banned",
            ),
            _check(
                "Also avoid states where Kei may use only locally allowed roads (Ohio, "
                "Kentucky, Minnesota…)",
                s.avoid_opt_in,
                s.set_avoid_opt_in,
                "plan-avoid-opt-in",
            ),
            rx.el.div("Motorways and interstates are always avoided.", class_name="kd-note"),
            class_name="kp-options",
        ),
        class_name="kp-details",
    )


def plan_form() -> rx.Component:
    s = PlanState
    return rx.el.form(
        _field_label("From", "plan-origin"),
        rx.el.div(
            rx.input(
                id="plan-origin",
                name="origin",
                value=s.origin_text,
                on_change=s.set_origin_text,
                placeholder="Address, “City, ST” or lat,lon",
                size="3",
                class_name="kp-input",
            ),
            rx.el.button(
                "My location",
                type="button",
                id="plan-my-location",
                on_click=[s.locating, rx.call_script(GEOLOCATE_JS, callback=s.got_location)],
                class_name="kd-btn kp-locate",
            ),
            class_name="kp-row",
        ),
        rx.cond(s.origin_note != "", rx.el.div(s.origin_note, class_name="kd-note")),
        _field_error(s.origin_error),
        _candidates(s.origin_candidates, s.pick_origin, "origin"),
        _field_label("To", "plan-destination"),
        rx.input(
            id="plan-destination",
            name="destination",
            value=s.dest_text,
            on_change=s.set_dest_text,
            placeholder="Hardware store address, “City, ST” or lat,lon",
            size="3",
            class_name="kp-input",
        ),
        _field_error(s.dest_error),
        _candidates(s.dest_candidates, s.pick_dest, "dest"),
        _options(),
        rx.el.button(
            rx.cond(s.busy, rx.spinner(size="2"), rx.fragment()),
            rx.el.span("Plan route"),
            type="submit",
            id="plan-submit",
            disabled=s.busy,
            class_name="kd-btn kd-btn-start kp-submit",
        ),
        rx.el.div(
            "Addresses need a connection; “City, ST” and “lat,lon” work offline.",
            class_name="kd-note",
        ),
        rx.foreach(s.attributions, lambda a: rx.el.div(a, class_name="kp-attr kp-attribution")),
        on_submit=s.submit,
        class_name="kp-form",
    )


def gpx_check() -> rx.Component:
    return rx.el.section(
        rx.el.h2("Check a GPX route", class_name="kp-h2"),
        rx.el.p(
            "Bring a route from another app: it is matched to the road map and checked for "
            "highways, speed caps and the states it crosses.",
            class_name="kd-note",
        ),
        rx.upload(
            rx.el.div(
                rx.el.strong("Choose a .gpx file"),
                rx.el.span(" or drop it here", class_name="kd-note"),
                class_name="kp-drop-inner",
            ),
            id="gpx",
            multiple=False,
            max_files=1,
            max_size=config.MAX_GPX_BYTES,
            accept={"application/gpx+xml": [".gpx"], "application/xml": [".xml"]},
            # never disabled: a file dropped on a disabled zone is opened by the browser in
            # place of the app (react-dropzone leaves that drop alone); #plan-busy says a
            # drop meanwhile is not read
            on_drop=PlanState.upload_gpx(rx.upload_files(upload_id="gpx")),
            on_drop_rejected=lambda refused: PlanState.gpx_refused(refusal_records(refused)),
            class_name="kp-drop",
        ),
        id="gpx-check",
        class_name="kp-panel kp-gpx-panel",
    )
