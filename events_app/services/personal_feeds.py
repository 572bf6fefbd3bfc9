"""The "my events" calendar link of an e-mail address: create, look up, rotate.

One read-only token per address, separate from manage links: a manage link can be forwarded
to a friend to change one RSVP without handing over the list of every event its owner goes
to. The token is only ever sent by e-mail to its address, so only someone who reads that inbox
holds it; and the feed lists only RSVPs verified through that inbox (Rsvp.verified_at), so
typing someone else's address into the RSVP form neither reveals nor changes their calendar.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, bindparam
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from events_app import urls
from events_app.i18n import N_
from events_app.models import PersonalFeed, is_token_shaped, new_token, utcnow

# Shown with gettext() in the reader's language (web/feeds.py).
NOT_FOUND = N_("This calendar link is not valid (it may have been replaced by a newer one). "
               "Use the link in your latest RSVP e-mail.")


def feed_for(session: Session, email: str) -> PersonalFeed:
    """The address's feed row, created on first use (caller's transaction).

    INSERT ... ON CONFLICT DO NOTHING, then read: two transactions creating the same
    address's row at once (RSVPs to two events lock different event rows) both end with the
    one row, and neither fails, so an organizer's edit that promotes people never errors here.
    """
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    session.exec(  # type: ignore[call-overload]
        insert(PersonalFeed.__table__)  # type: ignore[arg-type]
        .values(email=email, token=new_token(), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["email"])
    )
    return session.exec(select(PersonalFeed).where(PersonalFeed.email == email)).one()


def token_for(session: Session, email: str) -> str:
    """The address's feed token, its row created on first use as in `feed_for` (caller's
    transaction): for the RSVP e-mails that only need the token. A new address (the usual
    case for an RSVP) costs the one INSERT, which hands back the token it wrote; only an
    address that already had a row is read afterwards."""
    # Through the session, not its connection: the data version sees the feed row written.
    created = session.execute(create_statement(session), new_feed_params(email)).first()
    if created is not None:
        return str(created[0])
    return str(session.connection().execute(_TOKEN_OF, {"pf_email": email}).scalar_one())


def tokens_for(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """`token_for` of several addresses (caller's transaction): the feeds that exist read in
    one statement, the others created one by one. For a change that confirms several
    people at once (the waitlist moving up), who nearly always have a feed already (their
    own RSVP made it): `token_for` would cost each of them two statements."""
    wanted = set(emails)
    if not wanted:
        return {}
    found = {str(email): str(token) for email, token in session.connection().execute(
        _TOKENS_OF, {"pf_emails": sorted(wanted)})}
    for email in sorted(wanted - found.keys()):
        found[email] = token_for(session, email)
    return found


def token_of(email: ColumnElement[str]) -> ScalarSelect[str]:
    """The feed token of the address `email` as a scalar subquery (NULL when it has none):
    read within a statement the caller runs anyway, it saves `token_for` its statements for
    an address that has a feed already (the caller then uses it instead)."""
    return select(_TABLE.c.token).where(_TABLE.c.email == email).scalar_subquery()


_create_statements: dict[str, Any] = {}
_TABLE = PersonalFeed.__table__  # type: ignore[attr-defined]
_TOKEN_OF = select(_TABLE.c.token).where(_TABLE.c.email == bindparam("pf_email"))
_TOKENS_OF = select(_TABLE.c.email, _TABLE.c.token).where(
    _TABLE.c.email.in_(bindparam("pf_emails", expanding=True)))


def new_feed_params(email: str) -> dict[str, Any]:
    """The parameters of `create_statement` for `email`: a new token, created now."""
    return {"pf_email": email, "pf_token": new_token(), "pf_created_at": utcnow()}


def create_statement(session: Session) -> Any:
    """The one statement that creates an address's feed row on first use: INSERT ... ON
    CONFLICT (email) DO NOTHING RETURNING token (no row: the address had one), its values
    the parameters `new_feed_params` gives. Built once per dialect: every RSVP post runs it,
    and building the statement anew cost more CPU than the database spends on it.
    `token_for` runs it; services/rsvp.py runs it inside its RSVP's INSERT on PostgreSQL."""
    dialect = session.get_bind().dialect.name
    found = _create_statements.get(dialect)
    if found is None:
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        found = _create_statements[dialect] = (
            insert(_TABLE).values(email=bindparam("pf_email"), token=bindparam("pf_token"),
                                  created_at=bindparam("pf_created_at"))
            .on_conflict_do_nothing(index_elements=["email"]).returning(_TABLE.c.token))
    return found


def email_for_token(session: Session, token: str) -> str | None:
    """The address behind a feed token; None for anything that is not a current token."""
    if not is_token_shaped(token):
        return None
    return session.exec(select(PersonalFeed.email).where(PersonalFeed.token == token)).first()


def rotate(session: Session, email: str) -> PersonalFeed:
    """Give the address a new token; the old link stops working at once (caller's
    transaction, which also queues the e-mail carrying the new one)."""
    feed = feed_for(session, email)
    feed.token = new_token()
    session.add(feed)
    session.flush()
    return feed


def forget(session: Session, email: str) -> int:
    """Drop the address's feed (its last RSVP was erased): nothing left to show, and the
    row itself is personal data. Returns 1 if there was one."""
    feed = session.exec(select(PersonalFeed).where(PersonalFeed.email == email)).first()
    if feed is None:
        return 0
    session.delete(feed)
    session.flush()
    return 1


def page_url(token: str) -> str:
    """The page with the subscribe buttons; the e-mails link here."""
    return urls.my_events_url(token)


def feed_url(token: str) -> str:
    return urls.my_feed_url(token)
