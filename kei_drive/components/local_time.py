"""Browser-side helpers of the trip pages (assets/kei/localtime.jsx).

``local_time`` shows an ISO UTC timestamp in a given IANA zone (a trip's: where it was
driven) or the viewer's own, formatted by the browser (the server stores UTC and needs no
time-zone data); the element is a
``<time datetime=... data-utc=...>`` so the UTC value stays machine-readable.
``ticker`` fires an event every ``interval`` ms while it is on the page and the tab is
visible; render it inside ``rx.cond`` to start/stop it.
"""

import reflex as rx


class LocalTime(rx.NoSSRComponent):
    library = "$/public/kei/localtime.jsx"
    tag = "LocalTime"

    value: rx.Var[str]  # ISO 8601 start, UTC ("...Z")
    end: rx.Var[str]  # optional ISO end: shown as a range
    zone: rx.Var[str]  # optional IANA zone to show it in (a trip's): else the viewer's
    fallback: rx.Var[str]  # text when there is no (valid) time
    title: rx.Var[str]


class Ticker(rx.NoSSRComponent):
    library = "$/public/kei/localtime.jsx"
    tag = "Ticker"

    interval: rx.Var[int]  # milliseconds
    on_tick: rx.EventHandler[rx.event.no_args_event_spec]


local_time = LocalTime.create
ticker = Ticker.create
