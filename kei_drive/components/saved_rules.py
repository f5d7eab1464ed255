"""``#saved-rules``: the States page's rules from the phone's saved copy while the server
cannot send its own (a browser-side component, assets/kei/saved_rules.jsx)."""

import reflex as rx


class SavedRules(rx.NoSSRComponent):
    library = "$/public/kei/saved_rules.jsx"
    tag = "SavedRules"

    loaded: rx.Var[bool]  # the page's own rules arrived: nothing to stand in for


saved_rules = SavedRules.create
