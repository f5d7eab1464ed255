"""Kei Drive: a phone-first driving companion for Kei trucks and cars in the US."""


def version() -> str:
    """The installed package version (what outgoing requests name as their client)."""
    try:
        from importlib.metadata import version as installed

        return installed("kei-drive")
    except Exception:  # running from a source tree without an install
        return "0.1.0"
