"""The nav's recording mark (``#recording-indicator``), shown on every page while a trip
is recorded: a browser-side component over the app-wide recorder (assets/kei/recorder.js)."""

import reflex as rx


class RecordingIndicator(rx.NoSSRComponent):
    library = "$/public/kei/recording_indicator.jsx"
    tag = "RecordingIndicator"


recording_indicator = RecordingIndicator.create
