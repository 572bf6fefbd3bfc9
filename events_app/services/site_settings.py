"""Site-wide settings: switches that admins flip in the workspace (stored in the database, so
every worker process sees a change at once, without a restart or access to the server), and
the site's description in the reader's language (from the environment, settings.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlmodel import Session

from events_app import i18n, settings
from events_app.db import dialect_insert, read_session
from events_app.i18n import N_, gettext
from events_app.models import SiteSetting
from events_app.services import data_version

# The description when the operator set none: the catalogs translate it like any text.
BUILT_IN_DESCRIPTION = N_("Protests, policy briefings, town halls and trainings across the "
                          "network.")


@dataclass(frozen=True)
class SiteDescription:
    text: str
    lang: str | None  # the language it is in, when not the one asked for (mark it: lang="")


@cache
def _description(language: str) -> SiteDescription:
    own = settings.site_description_in(language)
    if own:
        return SiteDescription(own, None)
    if not settings.SITE_DESCRIPTION.strip():
        with i18n.using(language):
            return SiteDescription(gettext(BUILT_IN_DESCRIPTION), None)
    # The operator's SITE_DESCRIPTION is written in the site's default language.
    fallback = None if language == settings.DEFAULT_LANGUAGE else settings.DEFAULT_LANGUAGE
    return SiteDescription(settings.SITE_DESCRIPTION.strip(), fallback)


def site_description(language: str | None = None) -> SiteDescription:
    """The description in `language` (default: the current one): the operator's for that
    language (SITE_DESCRIPTION_ES...), else, for the built-in description, its translation,
    else the operator's SITE_DESCRIPTION, marked as in DEFAULT_LANGUAGE. Fixed per process,
    so worked out once per language."""
    return _description(language or i18n.current())


def get_flag(session: Session, key: str) -> bool:
    row = session.get(SiteSetting, key)
    return row is not None and row.value == "1"


# key -> (the "events" data version the flag was read under, the flag)
_flags: dict[str, tuple[str, bool]] = {}


def current_flag(key: str) -> bool:
    """`get_flag` for a check made on every request (the sign-in gate's "two-factor
    required"): read once per data version, not per request. Every write to a setting bumps
    the "events" version in its transaction (services/data_version.py), so a switch flipped
    in any process takes effect here at once (this process) or within CHECK_INTERVAL (another).
    Inside a transaction that decides on the flag, read it there instead (`get_flag`)."""
    version = data_version.current().events  # first: the flag read after it is as new
    found = _flags.get(key)
    if found is not None and found[0] == version:
        return found[1]
    with read_session() as session:
        value = get_flag(session, key)
    _flags[key] = (version, value)
    return value


def set_flag(session: Session, key: str, value: bool) -> None:
    stmt = dialect_insert(session, SiteSetting).values(key=key, value="1" if value else "0")
    session.exec(stmt.on_conflict_do_update(  # type: ignore[call-overload]
        index_elements=["key"], set_={"value": stmt.excluded.value}))
