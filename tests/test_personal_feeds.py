"""The "my events" token of an address (services/personal_feeds.py), on SQLite and PostgreSQL."""

from __future__ import annotations

from events_app.db import write_session
from events_app.services import personal_feeds


def test_token_for_creates_the_row_once_and_agrees_with_feed_for(db_url) -> None:
    with write_session() as s:
        first = personal_feeds.token_for(s, "a@example.org")
    with write_session() as s:
        assert personal_feeds.token_for(s, "a@example.org") == first  # read, not replaced
        assert personal_feeds.feed_for(s, "a@example.org").token == first
        assert personal_feeds.token_for(s, "b@example.org") != first
        rotated = personal_feeds.rotate(s, "a@example.org").token
    with write_session() as s:
        assert personal_feeds.token_for(s, "a@example.org") == rotated != first
