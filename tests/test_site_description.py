"""The site's description in the reader's language (services/site_settings.py): the built-in
one translated, an operator's per language (SITE_DESCRIPTION_ES), and an operator's
SITE_DESCRIPTION alone shown as it is, marked with the language it is written in."""

from __future__ import annotations

from collections.abc import Iterator

import icalendar
import pytest

from events_app import settings
from events_app.services import site_settings
from events_app.services.site_settings import SiteDescription, site_description

EN_TEXT = "Protests, policy briefings, town halls and trainings across the network."
ES_TEXT = ("Protestas, sesiones informativas sobre políticas públicas, asambleas "
           "vecinales y capacitaciones en toda la red.")


@pytest.fixture
def fresh() -> Iterator[None]:
    """Descriptions are worked out once per process: forget them around a test that changes
    the settings."""
    settings.site_description_in.cache_clear()
    site_settings._description.cache_clear()
    yield
    settings.site_description_in.cache_clear()
    site_settings._description.cache_clear()


def test_the_built_in_description_is_translated() -> None:
    assert site_description("en") == SiteDescription(EN_TEXT, None)
    assert site_description("es") == SiteDescription(ES_TEXT, None)


def test_an_operators_description_per_language(monkeypatch, fresh) -> None:
    monkeypatch.setattr(settings, "SITE_DESCRIPTION", "Events of the Lakeside network.")
    monkeypatch.setenv("SITE_DESCRIPTION_ES", "Eventos de la red Lakeside.")
    assert site_description("en") == SiteDescription("Events of the Lakeside network.", None)
    assert site_description("es") == SiteDescription("Eventos de la red Lakeside.", None)


def test_an_operators_description_in_one_language_is_marked_elsewhere(monkeypatch,
                                                                      fresh) -> None:
    """No Spanish given: Spanish pages show the English one, marked lang="en", rather than
    the built-in text the operator replaced."""
    monkeypatch.setattr(settings, "SITE_DESCRIPTION", "Events of the Lakeside network.")
    assert site_description("es") == SiteDescription("Events of the Lakeside network.", "en")
    assert site_description("en").lang is None


@pytest.mark.parametrize(("headers", "text"), [
    ({"Accept-Language": "es"}, ES_TEXT), ({"Accept-Language": "en"}, EN_TEXT)])
def test_pages_show_it_in_their_language(client, headers, text) -> None:
    page = client.get("/events", headers=headers).text
    assert f'<meta name="description" content="{text}">' in page
    assert f"&middot; <span>{text}</span></p>" in page
    other = EN_TEXT if text == ES_TEXT else ES_TEXT
    assert other not in page


def test_feeds_describe_themselves_in_their_language(client) -> None:
    for query, text in (("?lang=es", ES_TEXT), ("", EN_TEXT)):
        feed = icalendar.Calendar.from_ical(client.get(f"/calendar.ics{query}").text)
        assert str(feed["X-WR-CALDESC"]) == str(feed["DESCRIPTION"]) == text
