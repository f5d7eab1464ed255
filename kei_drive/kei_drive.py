"""The Reflex app: pages, PWA head tags, the HTTP API mount and the tables' registration."""

import reflex as rx

from kei_drive import pages  # noqa: F401  (registers every page)
from kei_drive.api import api
from kei_drive.config import use_state_index_cache
from kei_drive.db.models import TABLES
from kei_drive.ingest_api import start_sweeper
from kei_drive.page_errors import backend_exception_handler
from kei_drive.pwa import head_components
from kei_drive.upload_limit import upload_size_limit

# Registered here, not in db/models.py, so the CLI and API never import Reflex for the tables
# (``reflex db`` imports this module, so its commands still see them).
for table in TABLES:
    rx.ModelRegistry.register(table)

app = rx.App(
    head_components=head_components(),
    html_lang="en",
    backend_exception_handler=backend_exception_handler,  # read-only database said plainly
    # the API is mounted first; the upload limit then wraps everything (incl. /_upload)
    api_transformer=[api, upload_size_limit],
)
# quiet loggers' trips are finished (and their highway checks retried) from the start
app.register_lifespan_task(start_sweeper)
# each backend worker loads the states' index from the cache folder instead of building it
app.register_lifespan_task(use_state_index_cache)
