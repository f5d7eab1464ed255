"""The Reflex app: pages, PWA head tags and the HTTP API mount."""

import reflex as rx

from kei_drive import pages  # noqa: F401  (registers every page)
from kei_drive.api import api  # also registers the database tables with Reflex
from kei_drive.page_errors import backend_exception_handler
from kei_drive.pwa import head_components
from kei_drive.upload_limit import upload_size_limit

app = rx.App(
    head_components=head_components(),
    html_lang="en",
    backend_exception_handler=backend_exception_handler,  # read-only database said plainly
    # the API is mounted first; the upload limit then wraps everything (incl. /_upload)
    api_transformer=[api, upload_size_limit],
)
