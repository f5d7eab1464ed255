"""The Reflex app: pages, PWA head tags and the HTTP API mount."""

import reflex as rx

app = rx.App()


@rx.page(route="/", title="Kei Drive")
def index() -> rx.Component:
    return rx.text("Kei Drive")
