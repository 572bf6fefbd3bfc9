"""A re-rendered form keeps what was typed, in a box that can hold it."""

from __future__ import annotations

import pytest

from events_app.web.input_types import input_type


@pytest.mark.parametrize(("wanted", "value"), [
    ("date", "2026-11-25"), ("time", "18:00"), ("time", "18:00:30.5"),
    ("datetime-local", "2026-11-25T18:00"), ("number", "40"), ("number", "-90.1994"),
    ("url", "https://example.org/stream"), ("email", "ann@example.org"),
    ("date", ""), ("text", "anything at all"), ("search", "soon"),
])
def test_values_that_fit_keep_their_box(wanted: str, value: str) -> None:
    assert input_type(wanted, value) == wanted


@pytest.mark.parametrize(("wanted", "value"), [
    ("date", "soon"), ("date", "2026-02-30"), ("date", "20261125"), ("time", "6pm"),
    ("time", "25:00"), ("datetime-local", "2026-11-25"), ("datetime-local", "tomorrow 6pm"),
    ("number", "forty"), ("number", "4O"), ("url", "not a link"), ("url", "example.org"),
    ("email", "ann@"), ("email", "ann at example.org"),
])
def test_values_a_typed_box_cannot_hold_go_in_a_text_box(wanted: str, value: str) -> None:
    assert input_type(wanted, value) == "text"
