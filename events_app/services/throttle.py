"""Rate limits counted in the database, atomic across threads, worker processes and hosts.

Used for RSVP posts per client IP and for organizer sign-in attempts (see `services.auth`).

Why a locked counter row: "count the recent attempts, then record this one" is a race when
two requests read the count before either writes (25 parallel wrong passwords all got
checked against a limit of 5). Here every decision first makes sure the key's row exists
(an insert that does nothing on conflict) and then locks it: `SELECT ... FOR UPDATE` on
PostgreSQL, the database write lock that `write_session` takes up front (BEGIN IMMEDIATE) on
SQLite. Parallel requests for the same key therefore decide one after another, each seeing
the previous one's count. Call these functions inside a `write_session`, and keep that
transaction short: slow work (password hashing) belongs after it commits.

A bucket counts attempts in a window that starts with the first attempt after the previous
window ended. When the count reaches `limit`, the key is blocked: until the window ends, or,
with `backoff`, for `backoff` doubling with each further attempt (capped at `max_backoff`).
Refused attempts are not counted, so a client that waits always gets through again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, delete, or_, update
from sqlmodel import Session, col, select

from events_app.db import dialect_insert
from events_app.models import ThrottleBucket, utcnow


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int  # attempts before the key is blocked
    window: timedelta  # how long counted attempts are remembered
    backoff: timedelta | None = None  # first block after `limit` attempts; doubles after
    max_backoff: timedelta | None = None


def _locked(session: Session, limit: Limit, now: datetime) -> ThrottleBucket:
    """The key's row, created if missing, locked until the transaction ends; a row whose
    window has passed (and that is not blocked) starts afresh."""
    session.exec(dialect_insert(session, ThrottleBucket)
                 .values(key=limit.key, count=0, window_start=now)
                 .on_conflict_do_nothing(index_elements=["key"]))
    bucket = session.exec(select(ThrottleBucket).where(ThrottleBucket.key == limit.key)
                          .with_for_update().execution_options(populate_existing=True)).one()
    if bucket.window_start <= now - limit.window and not _blocked(bucket, now):
        bucket.count, bucket.window_start, bucket.blocked_until = 0, now, None
    return bucket


def _blocked(bucket: ThrottleBucket, now: datetime) -> bool:
    return bucket.blocked_until is not None and bucket.blocked_until > now


def _count(bucket: ThrottleBucket, limit: Limit, now: datetime) -> None:
    bucket.count += 1
    if bucket.count >= limit.limit:
        if limit.backoff is None:
            bucket.blocked_until = bucket.window_start + limit.window
        else:
            delay = limit.backoff * 2 ** min(bucket.count - limit.limit, 30)
            if limit.max_backoff is not None:
                delay = min(delay, limit.max_backoff)
            bucket.blocked_until = now + delay


def take(session: Session, limits: Sequence[Limit], now: datetime | None = None) -> bool:
    """Count one attempt against every limit, or (if any of them is blocked) against none.

    Rows are locked in key order, so two requests sharing several keys cannot deadlock.
    """
    now = now or utcnow()
    ordered = sorted(limits, key=lambda lim: lim.key)
    buckets = [_locked(session, lim, now) for lim in ordered]
    if any(_blocked(b, now) for b in buckets):
        return False
    for bucket, lim in zip(buckets, ordered, strict=True):
        _count(bucket, lim, now)
        session.add(bucket)
    session.flush()
    return True


def allow(session: Session, key: str, limit: int, window: timedelta,
          now: datetime | None = None) -> bool:
    """Record one attempt for `key` and say whether it is within `limit` per `window`.

    `take` for one limit without back-off, in one statement: an INSERT ... ON CONFLICT DO
    UPDATE that counts the attempt only WHERE the key is not blocked, so the row is locked
    (by the statement) and counted in the same round trip. RSVP posts take this for every
    request, and everything between the row lock and the commit is time other requests from
    that address (a whole office behind one NAT, or a flood) spend waiting with a pool
    connection each. Same rules as `take`: a window that has passed starts afresh, reaching
    the limit blocks the key until the window ends, refused attempts are not counted.
    """
    now = now or utcnow()
    first_blocked_until = now + window if limit <= 1 else None
    counted = session.connection().execute(_allow_statement(session), {
        "t_key": key, "t_now": now, "t_cutoff": now - window,
        "t_first_blocked": first_blocked_until}).first()
    if counted is None:
        return False  # blocked: nothing was written
    count, window_start = counted
    if count >= limit and count > 1:
        # Reached the limit inside a running window (the row is still ours until commit).
        table = ThrottleBucket.__table__  # type: ignore[attr-defined]
        session.execute(update(table).where(table.c.key == key)
                        .values(blocked_until=window_start + window))
    return True


_allow_statements: dict[str, Any] = {}


def _allow_statement(session: Session) -> Any:
    """`allow`'s upsert, built once per dialect with its values as parameters (run as Core on
    the session's connection): every RSVP post runs it, and building the statement anew cost
    more CPU than the database spends on it."""
    dialect = session.get_bind().dialect.name
    found = _allow_statements.get(dialect)
    if found is not None:
        return found
    table = ThrottleBucket.__table__  # type: ignore[attr-defined]
    c = table.c
    at = bindparam("t_now", type_=c.window_start.type)
    passed = c.window_start <= bindparam("t_cutoff", type_=c.window_start.type)
    first_blocked = bindparam("t_first_blocked", type_=c.blocked_until.type)
    stmt = dialect_insert(session, table).values(
        key=bindparam("t_key", type_=c.key.type), count=1, window_start=at,
        blocked_until=first_blocked)
    found = _allow_statements[dialect] = stmt.on_conflict_do_update(
        index_elements=["key"],
        set_={"count": case((passed, 1), else_=c.count + 1),
              "window_start": case((passed, at), else_=c.window_start),
              "blocked_until": case((passed, first_blocked), else_=c.blocked_until)},
        where=or_(c.blocked_until.is_(None), c.blocked_until <= at),
    ).returning(c.count, c.window_start)
    return found


def refund(session: Session, limit: Limit) -> None:
    """Take back one counted attempt (it turned out not to be a failure), unblocking the key
    if that brings it back under its limit."""
    bucket = session.get(ThrottleBucket, limit.key, with_for_update=True)
    if bucket is None or bucket.count == 0:
        return
    bucket.count -= 1
    if bucket.count < limit.limit:
        bucket.blocked_until = None
    session.add(bucket)


def clear(session: Session, key: str) -> None:
    session.exec(delete(ThrottleBucket).where(ThrottleBucket.key == key))  # type: ignore[call-overload]


def prune(session: Session, older_than: timedelta = timedelta(days=1),
          now: datetime | None = None) -> None:
    """Rows idle for long only cost space; callers prune now and then (from cron jobs).

    `older_than` must exceed the longest window in use, or a pruned key would start afresh.
    """
    now = now or utcnow()
    session.exec(delete(ThrottleBucket).where(  # type: ignore[call-overload]
        col(ThrottleBucket.window_start) < now - older_than,
        or_(col(ThrottleBucket.blocked_until).is_(None), col(ThrottleBucket.blocked_until) < now),
    ))
