"""The States page's state: the rules on the chosen date, the table filter, one state's
detail and the driver's override form."""

from __future__ import annotations

from datetime import date
from typing import Any

import reflex as rx

from kei_drive import routes
from kei_drive.components.kei_status import STATUS_HINTS, STATUSES
from kei_drive.core.rules import RuleBook, RulesError
from kei_drive.js_text import replace_url_script
from kei_drive.page_auth import to_signin, user_id
from kei_drive.presenters.us_states import (
    ChangeRow,
    PeriodRow,
    UsStateDetail,
    UsStateRow,
    change_rows,
    interstate_choice,
    period_rows,
    us_state_detail,
    us_state_row,
)
from kei_drive.services.us_states import (
    clean_override_form,
    load_book,
    remove_user_override,
    save_user_override,
    user_override,
)


def _parse_day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return date.today()


def _replace_url(url: str) -> rx.event.EventSpec:
    """Keep the address shareable without a page load."""
    return rx.call_script(replace_url_script(url))  # the URL stays inside the string


class StatesState(rx.State):
    on_date: str = ""
    query: str = ""
    rows: list[UsStateRow] = []
    status_map: dict[str, str] = {}
    counts: dict[str, int] = {}
    load_error: str = ""
    disclaimer: str = ""
    data_version: str = ""

    selected: str = ""
    detail: UsStateDetail | None = None
    sources: list[str] = []
    periods: list[PeriodRow] = []
    changes: list[ChangeRow] = []  # "What changed"

    # override form
    override_open: bool = False
    override_form: dict[str, str] = {}
    override_key: int = 0
    override_error: str = ""
    flash: str = ""

    @rx.var
    def filtered_rows(self) -> list[UsStateRow]:
        words = self.query.lower().split()
        return [r for r in self.rows if all(w in r.search for w in words)]

    @rx.var
    def has_detail(self) -> bool:
        return self.detail is not None

    @rx.var
    def shown_count(self) -> int:
        return len(self.filtered_rows)

    def _load(self) -> None:
        day = _parse_day(self.on_date)
        self.on_date = day.isoformat()
        # the signed-in account's overrides; signed out: the package rules
        book, self.load_error = load_book(user_id(self))
        rules = book.all_rules(day)
        self.rows = [us_state_row(r) for r in rules]
        self.status_map = {r.state: r.status for r in rules}
        self.counts = {s: sum(r.status == s for r in rules) for s in STATUSES}
        self.disclaimer = str(book.metadata.get("disclaimer", ""))
        self.data_version = str(book.metadata.get("data_version", ""))
        self.changes = change_rows(book, day)
        self._load_detail(book, day)

    def _load_detail(self, book: RuleBook, day: date) -> None:
        rule = book.rule_for(self.selected, day) if self.selected else None
        if rule is None:
            self.detail, self.sources, self.periods = None, [], []
            return
        hint = STATUS_HINTS.get(rule.status, "")
        self.detail = us_state_detail(rule, book.next_change(rule.state, day), hint)
        self.sources = list(rule.sources)
        self.periods = period_rows(book, rule)

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
        self._load()
        if code and self.detail is None:
            self.flash = f"No state with the code {code!r}."
            self.selected = ""

    @rx.event
    def set_query(self, value: str):
        self.query = value

    @rx.event
    def set_on_date(self, value: str):
        if value:
            self.on_date = value
            self._load()

    @rx.event
    def today(self):
        self.on_date = date.today().isoformat()
        self._load()

    @rx.event
    def select_state(self, code: str):
        self.selected = (code or "").upper()
        self.override_open = False
        self.override_error = ""
        self.flash = ""
        self._load()
        return [_replace_url(routes.us_state(self.selected)), rx.scroll_to("state-detail")]

    @rx.event
    def close_detail(self):
        self.selected = ""
        self.detail, self.sources, self.periods = None, [], []
        self.override_open = False
        return _replace_url(routes.STATES)

    @rx.event
    def open_override(self):
        uid = user_id(self)
        if uid is None:  # overrides belong to an account
            return to_signin()
        book, _ = load_book(uid)
        rule = book.rule_for(self.selected, _parse_day(self.on_date))
        if rule is None:
            return
        raw = user_override(uid, rule.state)
        self.override_form = {
            "status": rule.status,
            "max_speed": "" if rule.max_road_speed_mph is None else str(rule.max_road_speed_mph),
            "interstate": interstate_choice(rule.interstate_forbidden),
            "note": raw["note"] if raw else "",
        }
        self.override_key += 1
        self.override_error = ""
        self.override_open = True

    @rx.event
    def cancel_override(self):
        self.override_open = False
        self.override_error = ""

    @rx.event
    def save_override(self, form_data: dict[str, Any]):
        uid = user_id(self)
        if uid is None:  # each account edits its own overrides; signed out: sign in first
            return to_signin()
        code = self.selected
        try:
            fields, note = clean_override_form(form_data)
            save_user_override(uid, code, fields, note)
        except RulesError as exc:
            self.override_error = f"Override not saved: {exc}"
            return
        except ValueError as exc:
            self.override_error = str(exc)
            return
        self.override_open = False
        self.override_error = ""
        self.flash = f"Saved your override for {code}."
        self._load()

    @rx.event
    def remove_override(self):
        uid = user_id(self)
        if uid is None:
            return to_signin()
        code = self.selected
        try:
            removed = remove_user_override(uid, code)
        except RulesError as exc:
            self.flash = f"Override not removed: {exc}"
            return
        self.flash = (
            f"Removed your override for {code}: the package rule applies again."
            if removed
            else f"There was no override for {code}."
        )
        self.override_open = False
        self._load()
