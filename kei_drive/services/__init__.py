"""Services: one function per job that spans several pieces (core, database, routing).

No Reflex here: pages, the API and the CLI call the same function, and tests call it
directly. ``trips`` imports GPX files, finishes trips and exports them; ``planning`` plans
and checks routes for the Plan page.
"""
