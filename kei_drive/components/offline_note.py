"""``#offline-note``: on the pages that need the server, a line saying so while the phone is
offline (a browser-side component, assets/kei/offline_note.jsx)."""

import reflex as rx


class OfflineNote(rx.NoSSRComponent):
    library = "$/public/kei/offline_note.jsx"
    tag = "OfflineNote"


offline_note = OfflineNote.create
