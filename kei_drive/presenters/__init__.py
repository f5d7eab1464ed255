"""Presenters: plain functions (no Reflex, no database) that turn data into what people read.

``format`` has the distance/duration/time texts; ``trips`` the trip list/detail wording
(trip flags, default names, JSON summaries); ``track_map`` a trip's coloured map layers and
speed chart; ``route`` the Plan page's ``PlanResult``; ``vehicles`` the garage cards;
``exports`` export file names and MIME types. Pages, the API and the CLI all use them.
"""
