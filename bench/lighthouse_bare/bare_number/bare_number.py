"""A bare Reflex page with just a number: the framework's floor for the Lighthouse bench."""

import reflex as rx


def index() -> rx.Component:
    return rx.text("42", size="9")


app = rx.App()
app.add_page(index, route="/", title="Bare number")
