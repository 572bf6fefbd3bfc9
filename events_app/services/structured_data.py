"""schema.org `Event` JSON-LD for event pages, so search engines can show them as events.

Follows the properties search engines require (name, startDate, location) and recommend
(endDate, description, eventStatus, eventAttendanceMode, organizer, offers); no queries, the
caller passes the seat counts. Only public facts: never anything about who RSVP'd.
"""

from __future__ import annotations

from typing import Any

from events_app import settings, urls
from events_app.models import Event
from events_app.services import events as event_service
from events_app.services import rich_text
from events_app.services.event_text import LocalText, untranslated
from events_app.services.rsvp import SeatCounts
from events_app.timefmt import all_day_last_day

SCHEMA = "https://schema.org/"
_MODES = {
    "offline": "OfflineEventAttendanceMode",
    "online": "OnlineEventAttendanceMode",
    "mixed": "MixedEventAttendanceMode",
}


def _place(event: Event) -> dict[str, Any]:
    address = {"@type": "PostalAddress", "streetAddress": event.street_address,
               "addressLocality": event.city, "addressRegion": event.region,
               "postalCode": event.postal_code}
    place: dict[str, Any] = {
        "@type": "Place",
        "name": event.venue_name or event.address_line,
        "address": {k: v for k, v in address.items() if v},
    }
    if event.latitude is not None and event.longitude is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": event.latitude,
                        "longitude": event.longitude}
    return place


def _date(event: Event, which: str) -> str:
    """Local wall time with offset; an all-day event is given as dates (end inclusive)."""
    local = event.local_start if which == "start" else event.local_end
    if not event.all_day:
        return local.isoformat()
    if which == "end":
        return all_day_last_day(event.local_start, local).isoformat()
    return local.date().isoformat()


def event_jsonld(event: Event, seats: SeatCounts, text: LocalText | None = None
                 ) -> dict[str, Any]:
    """The page's event in its reader's language (`text`, services/event_text.py; the
    event's own text without it): `inLanguage` is the language the name is in."""
    text = text or untranslated(event, settings.DEFAULT_LANGUAGE)
    page_url = urls.event_url(event.slug)
    mode = event_service.attendance_mode(event)
    places: list[dict[str, Any]] = []
    if mode != "online":
        places.append(_place(event))
    if mode != "offline":
        # A link kept for confirmed attendees: the page where one RSVPs to get it stands in.
        places.append({"@type": "VirtualLocation", "url": event.public_online_url or page_url})
    offer: dict[str, Any] = {
        "@type": "Offer",
        "url": f"{page_url}#rsvp",
        # RSVPs are free; the currency is required next to a price, and the network is US-based.
        "price": 0,
        "priceCurrency": "USD",
        "validFrom": event.created_at.isoformat(),
    }
    if event.capacity is not None:
        offer["availability"] = SCHEMA + ("SoldOut" if seats.is_full else "InStock")
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": page_url,
        "name": text.title,
        # Search engines read text: the description's Markdown as plain text.
        "description": text.summary or rich_text.to_text(text.description) or text.title,
        "inLanguage": text.title_lang,
        "url": page_url,
        "startDate": _date(event, "start"),
        "endDate": _date(event, "end"),
        "eventStatus": SCHEMA + ("EventCancelled" if event.is_cancelled else "EventScheduled"),
        "eventAttendanceMode": SCHEMA + _MODES[mode],
        "location": places[0] if len(places) == 1 else places,
        "organizer": {"@type": "Organization", "name": event.host_name or settings.SITE_NAME,
                      "url": urls.home_url()},
        "isAccessibleForFree": True,
        "offers": offer,
    }
    if event.capacity is not None:
        data["maximumAttendeeCapacity"] = event.capacity
        if seats.remaining is not None:
            data["remainingAttendeeCapacity"] = seats.remaining
    return data
