"""Per-tab Reflex state is bounded in time (security probe M1c: throw-away websocket
sessions held ~1 MB each for an hour)."""

from __future__ import annotations


def test_tab_state_expires_after_fifteen_idle_minutes():
    from reflex.istate.manager import StateManager
    from reflex_base.config import get_config

    assert get_config().redis_token_expiration == 900  # read from rxconfig.py
    manager = StateManager.create()  # what the app uses (memory here, Redis when set)
    assert manager.token_expiration == 900
