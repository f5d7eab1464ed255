"""Route ``/states``: where may a Kei drive? Map, searchable table and per-state detail.

Everything shown is advice with its sources, never legal clearance. The rules come from
``kei_drive.core.rules.load_rules()`` (package data + the user's local overrides), for the
date picked in "Rules on" (default today), so enacted changes (Colorado, 2028-01-01) show
on their date. ``/states?state=CO`` opens a state's detail directly.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import reflex as rx

from kei_drive.components.forms import save_cancel_row
from kei_drive.components.kei_status import STATUS_HINTS, STATUSES, status_badge
from kei_drive.components.layout import page_frame
from kei_drive.components.map import LOWER_48, kei_map
from kei_drive.components.rule_facts import access_facts, change_rows, rule_words, what_changed
from kei_drive.core.rules import KeiRule, RuleBook, RulesError, load_overrides, load_rules
from kei_drive.core.rules import remove_override as core_remove_override
from kei_drive.core.rules import save_override as core_save_override
from kei_drive.js_text import replace_url_script
from kei_drive.page_auth import SessionState, signed_in, to_signin

INTERSTATE_CHOICES = (("unknown", "Unknown"), ("forbidden", "Forbidden"), ("allowed", "Allowed"))


def _speed_text(rule: KeiRule) -> str:
    if rule.max_road_speed_mph is not None:
        return f"≤ {rule.max_road_speed_mph} mph"
    return {"banned": "no road use", "unclear": "unknown"}.get(rule.status, "no cap known")


def _interstate_text(rule: KeiRule) -> str:
    if rule.interstate_forbidden is None:
        return "unknown"
    return "forbidden" if rule.interstate_forbidden else "allowed"


def _interstate_choice(value: bool | None) -> str:
    return "unknown" if value is None else ("forbidden" if value else "allowed")


def _row(rule: KeiRule) -> dict[str, str]:
    return {
        "state": rule.state,
        "name": rule.name,
        "status": rule.status,
        "speed": _speed_text(rule),
        "interstate": _interstate_text(rule),
        "confidence": rule.confidence,
        "reviewed": rule.last_reviewed.isoformat(),
        "overridden": "yes" if rule.overridden else "",
        "search": f"{rule.state} {rule.name} {rule.status}".lower()
        + (" override" if rule.overridden else ""),
    }


def _period_row(rule: KeiRule, in_force: KeiRule | None) -> dict[str, str]:
    return {
        "from": rule.effective_from.isoformat() if rule.effective_from else "no start date",
        "status": rule.status,
        "speed": _speed_text(rule),
        "interstate": _interstate_text(rule),
        "current": "yes" if in_force is not None and rule == in_force else "",
        "advice": rule.advice(),
    }


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return date.today()


def _load_book() -> tuple[RuleBook, str]:
    """The rule book with overrides; a broken override file falls back to package rules."""
    try:
        return load_rules(), ""
    except RulesError as exc:
        with tempfile.TemporaryDirectory() as tmp:  # a path that surely holds no overrides
            book = load_rules(overrides_path=Path(tmp) / "none.json")
        return book, f"Your rule overrides could not be read ({exc}); showing package rules."


class StatesState(rx.State):
    on_date: str = ""
    query: str = ""
    rows: list[dict[str, str]] = []
    status_map: dict[str, str] = {}
    counts: dict[str, int] = {}
    load_error: str = ""
    disclaimer: str = ""
    data_version: str = ""

    selected: str = ""
    detail: dict[str, str] = {}
    sources: list[str] = []
    periods: list[dict[str, str]] = []
    changes: list[dict[str, str]] = []

    # override form
    override_open: bool = False
    override_form: dict[str, str] = {}
    override_key: int = 0
    override_error: str = ""
    flash: str = ""

    @rx.var
    def filtered_rows(self) -> list[dict[str, str]]:
        words = self.query.lower().split()
        return [r for r in self.rows if all(w in r["search"] for w in words)]

    @rx.var
    def has_detail(self) -> bool:
        return bool(self.detail)

    @rx.var
    def shown_count(self) -> int:
        return len(self.filtered_rows)

    def _refresh(self) -> None:
        day = _parse_day(self.on_date)
        self.on_date = day.isoformat()
        book, self.load_error = _load_book()
        rules = book.all_rules(day)
        self.rows = [_row(r) for r in rules]
        self.status_map = {r.state: r.status for r in rules}
        self.counts = {s: sum(r.status == s for r in rules) for s in STATUSES}
        self.disclaimer = str(book.metadata.get("disclaimer", ""))
        self.data_version = str(book.metadata.get("data_version", ""))
        self.changes = change_rows(book, day)
        self._fill_detail(book, day)

    def _fill_detail(self, book: RuleBook, day: date) -> None:
        rule = book.rule_for(self.selected, day) if self.selected else None
        if rule is None:
            self.detail, self.sources, self.periods = {}, [], []
            return
        upcoming = book.next_change(rule.state, day)
        self.detail = {
            "state": rule.state,
            "name": rule.name,
            "status": rule.status,
            "hint": STATUS_HINTS.get(rule.status, ""),
            "advice": rule.advice(),
            "conditions": rule.conditions,
            "citation": rule.citation,
            "source_date": rule.source_date,
            "confidence": rule.confidence,
            "speed": _speed_text(rule),
            "interstate": _interstate_text(rule),
            "effective_from": (
                rule.effective_from.isoformat()
                if rule.effective_from
                else "since before the research"
            ),
            "last_reviewed": rule.last_reviewed.isoformat(),
            "overridden": "yes" if rule.overridden else "",
            "override_note": rule.override_note or "",
            "next_change": (
                f"From {upcoming.effective_from.isoformat()}: {upcoming.status}"
                f" ({_speed_text(upcoming)}, interstates {_interstate_text(upcoming)})."
                if upcoming and upcoming.effective_from
                else ""
            ),
            **rule_words(rule),
        }
        self.sources = list(rule.sources)
        periods = book.periods(rule.state)
        self.periods = [_period_row(p, rule) for p in periods] if len(periods) > 1 else []

    @rx.event
    def on_load(self):
        if not self.on_date:
            self.on_date = date.today().isoformat()
        code = (self.router.url.query_parameters.get("state") or "").strip().upper()
        if code:  # a deep link shows that state in a full table
            self.selected = code
            self.override_open = False
            self.query = ""
        self.flash = ""
        self._refresh()
        if code and not self.detail:
            self.flash = f"No state with the code {code!r}."
            self.selected = ""

    @rx.event
    def set_query(self, value: str):
        self.query = value

    @rx.event
    def set_on_date(self, value: str):
        if value:
            self.on_date = value
            self._refresh()

    @rx.event
    def today(self):
        self.on_date = date.today().isoformat()
        self._refresh()

    @rx.event
    def select_state(self, code: str):
        self.selected = (code or "").upper()
        self.override_open = False
        self.override_error = ""
        self.flash = ""
        self._refresh()
        # keep the address shareable without a page load
        return [
            rx.call_script(replace_url_script(f"/states?state={self.selected}")),  # escaped
            rx.scroll_to("state-detail"),
        ]

    @rx.event
    def close_detail(self):
        self.selected = ""
        self.detail, self.sources, self.periods = {}, [], []
        self.override_open = False
        return rx.call_script("window.history.replaceState(null, '', '/states')")

    @rx.event
    def open_override(self):
        book, _ = _load_book()
        rule = book.rule_for(self.selected, _parse_day(self.on_date))
        if rule is None:
            return
        try:
            raw = load_overrides().get(rule.state)
        except RulesError:
            raw = None
        self.override_form = {
            "status": rule.status,
            "max_speed": "" if rule.max_road_speed_mph is None else str(rule.max_road_speed_mph),
            "interstate": _interstate_choice(rule.interstate_forbidden),
            "note": raw["note"] if raw else "",
        }
        self.override_key += 1
        self.override_error = ""
        self.override_open = True

    @rx.event
    def cancel_override(self):
        self.override_open = False
        self.override_error = ""

    def _refuse_override_edit(self):
        """The overrides file is still shared by every account on the server, so only a
        signed-in owner may change it (signed out: to the sign-in form)."""
        user = signed_in(self)
        if user is None:
            return to_signin()
        if user.role != "owner":
            self.override_error = "Only the server's owner can change the shared overrides."
            self.flash = self.override_error
            return rx.toast.error(self.override_error)
        return None

    @rx.event
    def save_override(self, form_data: dict[str, Any]):
        if (refused := self._refuse_override_edit()) is not None:
            return refused
        code = self.selected
        status = str(form_data.get("status") or "").strip()
        speed_text = str(form_data.get("max_speed") or "").strip()
        interstate = str(form_data.get("interstate") or "unknown")
        note = str(form_data.get("note") or "").strip()
        if status not in STATUSES:
            self.override_error = "Pick a status: legal, restricted, banned or unclear."
            return
        speed: int | None = None
        if speed_text:
            if not speed_text.isdigit() or not 5 <= int(speed_text) <= 85:
                self.override_error = (
                    f"Max road speed must be a whole number of mph from 5 to 85, or empty "
                    f"for no cap (got {speed_text!r})."
                )
                return
            speed = int(speed_text)
        if not note:
            self.override_error = (
                "Say where this rule comes from (e.g. 'DMV letter of 2026-10-02'): "
                "the note is required."
            )
            return
        fields = {
            "status": status,
            "max_road_speed_mph": speed,
            "interstate_forbidden": {"forbidden": True, "allowed": False}.get(interstate),
            # the package's one-line summary describes the package rule: the advice is
            # rebuilt from the user's fields instead
            "summary": None,
        }
        try:
            core_save_override(code, fields, note)
        except (RulesError, OSError) as exc:
            self.override_error = f"Override not saved: {exc}"
            return
        self.override_open = False
        self.override_error = ""
        self.flash = f"Saved your override for {code}."
        self._refresh()

    @rx.event
    def remove_override(self):
        if (refused := self._refuse_override_edit()) is not None:
            return refused
        code = self.selected
        try:
            removed = core_remove_override(code)
        except (RulesError, OSError) as exc:
            self.flash = f"Override not removed: {exc}"
            return
        self.flash = (
            f"Removed your override for {code}: the package rule applies again."
            if removed
            else f"There was no override for {code}."
        )
        self.override_open = False
        self._refresh()


# ------------------------------------------------------------------------------ view


def legend() -> rx.Component:
    return rx.el.div(
        *[
            rx.el.span(
                rx.el.span(class_name=f"kd-swatch kd-swatch-{s}"),
                rx.el.span(f"{s} ", class_name="kd-legend-label"),
                rx.el.span(StatesState.counts[s], class_name="kd-legend-count"),
                class_name="kd-legend-item",
                title=STATUS_HINTS[s],
            )
            for s in STATUSES
        ],
        id="states-legend",
        class_name="kd-legend",
    )


def fact(label: str, value: rx.Var | str, **props) -> rx.Component:
    return rx.el.div(rx.el.dt(label), rx.el.dd(value, **props), class_name="kd-fact")


def override_form() -> rx.Component:
    form = StatesState.override_form
    return rx.form(
        rx.el.div(
            rx.el.label("Status", html_for="override-status"),
            rx.el.select(
                *[rx.el.option(s, value=s) for s in STATUSES],
                id="override-status",
                name="status",
                default_value=form["status"],
                class_name="kd-field",
            ),
            rx.el.label("Max road speed (mph, empty = no cap)", html_for="override-speed"),
            rx.el.input(
                id="override-speed",
                name="max_speed",
                type="text",
                input_mode="numeric",
                default_value=form["max_speed"],
                placeholder="e.g. 55",
                class_name="kd-field",
            ),
            rx.el.label("Interstates", html_for="override-interstate"),
            rx.el.select(
                *[rx.el.option(label, value=v) for v, label in INTERSTATE_CHOICES],
                id="override-interstate",
                name="interstate",
                default_value=form["interstate"],
                class_name="kd-field",
            ),
            rx.el.label("Where this comes from (required)", html_for="override-note"),
            rx.el.input(
                id="override-note",
                name="note",
                default_value=form["note"],
                placeholder="e.g. DMV letter of 2026-10-02",
                class_name="kd-field",
            ),
            class_name="kd-form-grid",
        ),
        rx.cond(
            StatesState.override_error != "",
            rx.el.div(StatesState.override_error, id="override-error", class_name="kd-error"),
        ),
        save_cancel_row("Save override", "override-save", StatesState.cancel_override),
        key=StatesState.override_key,
        on_submit=StatesState.save_override,
        id="override-form",
        class_name="kd-override-form",
    )


def override_section() -> rx.Component:
    d = StatesState.detail
    return rx.el.section(
        rx.el.h3("Your override"),
        rx.el.p(
            "Have a DMV letter or a newer law? Record your own rule for this state. It stays "
            "on this device, is marked as yours everywhere, and you can remove it any time.",
            class_name="kd-note",
        ),
        rx.cond(
            StatesState.override_open,
            override_form(),
            rx.el.div(
                rx.el.button(
                    rx.cond(d["overridden"] == "yes", "Edit my override", "Add my override"),
                    id="override-open",
                    on_click=StatesState.open_override,
                    class_name="kd-btn",
                ),
                rx.cond(
                    d["overridden"] == "yes",
                    rx.el.button(
                        "Remove my override",
                        id="override-remove",
                        on_click=StatesState.remove_override,
                        class_name="kd-btn kd-btn-danger",
                    ),
                ),
                class_name="kd-row",
            ),
        ),
        class_name="kd-override",
    )


def detail_view() -> rx.Component:
    d = StatesState.detail
    return rx.el.section(
        rx.el.div(
            rx.el.h2(d["name"], " (", d["state"], ")", id="state-detail-name"),
            rx.el.button(
                "Close", on_click=StatesState.close_detail, class_name="kd-btn kd-btn-quiet"
            ),
            class_name="kd-detail-head",
        ),
        rx.el.div(
            status_badge(d["status"].to(str)),
            rx.el.span(d["hint"], class_name="kd-note"),
            rx.cond(
                d["overridden"] == "yes",
                rx.el.span("Your override", class_name="kd-override-pill", id="detail-override"),
            ),
            class_name="kd-row",
        ),
        rx.cond(
            d["overridden"] == "yes",
            rx.el.div(
                "This rule is YOUR override, not the researched package rule: ",
                d["override_note"],
                class_name="kd-override-banner",
            ),
        ),
        rx.el.p(d["advice"], id="state-advice", class_name="kd-advice"),
        access_facts(d),
        rx.el.dl(
            fact("Max road speed", d["speed"], id="detail-speed"),
            fact("Interstates", d["interstate"], id="detail-interstate"),
            fact("Confidence", d["confidence"], id="detail-confidence"),
            fact("In force from", d["effective_from"], id="detail-effective"),
            fact("Source date", d["source_date"]),
            fact("Last reviewed", d["last_reviewed"], id="detail-reviewed"),
            class_name="kd-facts",
        ),
        rx.cond(
            d["next_change"] != "",
            rx.el.div(
                rx.el.strong("Upcoming change: "),
                d["next_change"],
                class_name="kd-upcoming",
                id="detail-next-change",
            ),
        ),
        rx.cond(
            d["overridden"] == "yes",
            rx.el.p(
                "Conditions, citation and sources below are the package research; your "
                "override replaces the status, speed cap and interstate rule.",
                class_name="kd-note",
            ),
        ),
        rx.el.h3("Conditions"),
        rx.el.p(d["conditions"], class_name="kd-text"),
        rx.el.h3("Citation"),
        rx.el.p(d["citation"], class_name="kd-text"),
        rx.el.h3("Sources"),
        rx.cond(
            StatesState.sources.length() > 0,
            rx.el.ul(
                rx.foreach(
                    StatesState.sources,
                    lambda url: rx.el.li(
                        rx.el.a(url, href=url, target="_blank", rel="noopener noreferrer")
                    ),
                ),
                id="state-sources",
                class_name="kd-sources",
            ),
            rx.el.p("No sources recorded.", class_name="kd-note"),
        ),
        rx.cond(
            StatesState.periods.length() > 0,
            rx.el.div(
                rx.el.h3("Rule periods"),
                rx.el.ul(
                    rx.foreach(
                        StatesState.periods,
                        lambda p: rx.el.li(
                            rx.el.strong(p["from"], ": "),
                            status_badge(p["status"].to(str), size="1"),
                            " ",
                            p["speed"],
                            ", interstates ",
                            p["interstate"],
                            rx.cond(
                                p["current"] == "yes", rx.el.em(" ← in force on the chosen date")
                            ),
                        ),
                    ),
                    class_name="kd-periods",
                ),
            ),
        ),
        override_section(),
        id="state-detail",
        custom_attrs={"data-state": d["state"]},
        class_name="kd-detail",
    )


def table_row(row: rx.Var) -> rx.Component:
    return rx.el.tr(
        rx.el.td(
            rx.el.span(row["name"], class_name="kd-state-name"),
            rx.el.span(row["state"], class_name="kd-state-code"),
            rx.cond(
                row["overridden"] == "yes",
                rx.el.span("Your override", class_name="kd-override-pill"),
            ),
            class_name="kd-col-state",
        ),
        rx.el.td(status_badge(row["status"].to(str))),
        rx.el.td(row["speed"]),
        rx.el.td(row["interstate"]),
        rx.el.td(row["confidence"]),
        rx.el.td(row["reviewed"]),
        on_click=StatesState.select_state(row["state"]),
        custom_attrs={"data-state": row["state"], "data-overridden": row["overridden"]},
        class_name=rx.cond(
            row["state"] == StatesState.selected, "kd-state-row kd-selected", "kd-state-row"
        ),
    )


def states_table() -> rx.Component:
    return rx.el.div(
        rx.el.table(
            rx.el.thead(
                rx.el.tr(
                    rx.el.th("State", class_name="kd-col-state"),
                    rx.el.th("Status"),
                    rx.el.th("Max road speed"),
                    rx.el.th("Interstates"),
                    rx.el.th("Confidence"),
                    rx.el.th("Reviewed"),
                )
            ),
            rx.el.tbody(rx.foreach(StatesState.filtered_rows, table_row)),
            id="states-table",
            class_name="kd-table",
        ),
        class_name="kd-table-wrap",
    )


@rx.page(
    route="/states",
    title="States · Kei Drive",
    on_load=[SessionState.load_user, StatesState.on_load],
)
def states_page() -> rx.Component:
    return page_frame(
        rx.el.link(rel="stylesheet", href="/kei/states.css"),
        rx.el.h1("States", class_name="kd-title"),
        rx.el.p(
            "Where may a Kei truck drive? Advice with sources, never legal clearance: check "
            "the sources and your DMV. Tap a state on the map or in the table.",
            class_name="kd-note",
        ),
        rx.el.div(
            rx.el.label("Rules on", html_for="rules-date"),
            rx.el.input(
                id="rules-date",
                type="date",
                value=StatesState.on_date,
                on_change=StatesState.set_on_date,
                class_name="kd-field kd-date",
            ),
            rx.el.button("Today", on_click=StatesState.today, class_name="kd-btn kd-btn-quiet"),
            class_name="kd-row kd-controls-row",
        ),
        rx.cond(
            StatesState.load_error != "",
            rx.el.div(StatesState.load_error, class_name="kd-error", id="rules-load-error"),
        ),
        rx.cond(
            StatesState.flash != "",
            rx.el.div(StatesState.flash, class_name="kd-flash", id="states-flash"),
        ),
        kei_map(
            map_id="states-map",
            fit_bounds=LOWER_48,
            state_status=StatesState.status_map,
            on_state_click=StatesState.select_state,
            height="clamp(240px, 42vh, 460px)",
        ),
        legend(),
        rx.cond(StatesState.has_detail, detail_view()),
        rx.el.div(
            rx.el.input(
                id="states-search",
                type="search",
                placeholder="Search state, code, status or 'override'…",
                value=StatesState.query,
                on_change=StatesState.set_query,
                class_name="kd-field kd-search",
                aria_label="Search states",
            ),
            rx.el.span(StatesState.shown_count, " of 51", class_name="kd-note"),
            class_name="kd-row kd-controls-row",
        ),
        states_table(),
        what_changed(StatesState.changes),
        rx.el.p(
            StatesState.disclaimer,
            " Rules data version ",
            StatesState.data_version,
            ".",
            class_name="kd-note kd-foot-note",
        ),
    )
