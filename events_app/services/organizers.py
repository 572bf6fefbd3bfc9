"""Organizer accounts: created from the command line (the first admin) or by admins on the web.

Nobody chooses a password for someone else: a new account gets an invitation e-mail with a
one-time link to choose its own (services/account_links.py), and an admin helping someone
who forgot theirs sends them a reset link. Accounts are deactivated rather than deleted, so
the audit trail keeps naming who did what.
"""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from events_app.db import write_session
from events_app.i18n import N_, gettext
from events_app.models import Organizer, Role
from events_app.services import (
    account_links,
    audit,
    audit_detail,
    auth,
    login_sessions,
    seed,
    two_factor,
)
from events_app.util.forms import Checkbox, Form, FormError, email, parse_form, text

EmailField = email()
NameField = text(200, required=True)


class OrganizerForm(Form):
    email: EmailField = None
    name: NameField = None
    admin: Checkbox = None


def create_organizer(session: Session, *, email: str, name: str, password: str | None = None,
                     admin: bool = False, actor: Organizer | None = None) -> Organizer:
    """Validate and store a new account; raises FormError (per field) when it cannot.

    Without `password` the account has none yet (no password signs in to it) until its owner
    chooses one through an invitation link (`invite_organizer`). A password is given only
    where there is nobody to invite: test fixtures and the benchmark data set.
    """
    form = parse_form(OrganizerForm, {"email": email, "name": name,
                                      "admin": "on" if admin else ""})
    if password is not None and (problem := auth.password_problem(password)):
        raise FormError({"password": problem})
    if session.exec(select(Organizer.id).where(Organizer.email == form.email)).first():
        raise FormError({"email": gettext("There is already an organizer with this e-mail.")})
    organizer = Organizer(
        email=form.email,
        name=form.name,
        password_hash=auth.hash_password(password) if password is not None else "",
        role=Role.ADMIN.value if form.admin else Role.ORGANIZER.value,
    )
    try:
        with session.begin_nested():
            session.add(organizer)
            session.flush()
    except IntegrityError:  # created by someone else between the check and the insert
        raise FormError(
            {"email": gettext("There is already an organizer with this e-mail.")}) from None
    audit.record(session, actor, "organizer.create", organizer,
                 [audit_detail.line(N_("%(email)s as %(role)s"), email=organizer.email,
                                    role=audit_detail.code("role", organizer.role))])
    if form.admin and seed.first_admin(session) is organizer:
        seed.adopt_unowned_events(session, organizer)  # the demo events get an owner
    return organizer


def list_organizers(session: Session) -> list[Organizer]:
    return list(session.exec(
        select(Organizer).order_by(col(Organizer.is_active).desc(), func.lower(Organizer.name))
    ).all())


def find_by_emails(session: Session, emails: tuple[str, ...]) -> dict[str, Organizer]:
    if not emails:
        return {}
    rows = session.exec(select(Organizer).where(col(Organizer.email).in_(emails))).all()
    return {o.email: o for o in rows}


def _active_admins(session: Session) -> int:
    return session.exec(
        select(func.count()).select_from(Organizer)
        .where(Organizer.role == Role.ADMIN.value, col(Organizer.is_active).is_(True))
    ).one()


def has_active_admin(session: Session) -> bool:
    return _active_admins(session) > 0


def update_account(session: Session, actor: Organizer, organizer_id: int, *,
                   role: str | None = None, active: bool | None = None) -> Organizer:
    """Change another account's role or active flag (admins only; checked by the caller).

    Refuses to leave the site without an active admin, which would lock everyone out of
    account management.
    """
    target = session.get(Organizer, organizer_id, with_for_update=True)
    if target is None:
        raise LookupError(organizer_id)
    if active is False and target.id == actor.id:
        raise FormError({"active": gettext("You cannot deactivate your own account.")})
    if role is not None and role not in (Role.ADMIN.value, Role.ORGANIZER.value):
        raise FormError({"role": gettext("Choose admin or organizer.")})
    changes = {}
    if role is not None and role != target.role:
        changes["role"] = (target.role, role)
        target.role = role
    if active is not None and active != target.is_active:
        changes["active"] = (target.is_active, active)
        target.is_active = active
        if not active:
            login_sessions.end_all(session, organizer_id)
    if not changes:
        return target
    session.add(target)
    session.flush()
    if _active_admins(session) == 0:
        raise FormError({"role": gettext("There must always be at least one active admin.")})
    audit.record(session, actor, "organizer.update", target, audit_detail.describe_changes(changes))
    return target


def invite_organizer(session: Session, *, email: str, name: str, admin: bool = False,
                     actor: Organizer | None = None) -> tuple[Organizer, account_links.Sent]:
    """A new account without a password, and its invitation e-mail (caller's transaction)."""
    organizer = create_organizer(session, email=email, name=name, admin=admin, actor=actor)
    return organizer, account_links.send_invitation(session, organizer, actor)


def send_link(session: Session, actor: Organizer, organizer_id: int) -> \
        tuple[Organizer, account_links.Sent]:
    """An admin helps someone in: a new invitation for an account that never chose a
    password, else a password-reset link. The password stays theirs to choose."""
    target = session.get(Organizer, organizer_id, with_for_update=True)
    if target is None:
        raise LookupError(organizer_id)
    if not target.is_active:
        raise FormError({"active": gettext("%(name)s's account is deactivated; reactivate it "
                                           "first.") % {"name": target.name}})
    if not target.has_password:
        return target, account_links.send_invitation(session, target, actor)
    sent = account_links.send_reset(session, target)
    audit.record(session, actor, "organizer.reset_link_sent", target)
    return target, sent


def sign_out_everywhere(session: Session, actor: Organizer, organizer_id: int) -> Organizer:
    """End every session of an account at once (a lost phone, a shared computer)."""
    target = session.get(Organizer, organizer_id, with_for_update=True)
    if target is None:
        raise LookupError(organizer_id)
    ended = login_sessions.end_all(session, organizer_id)
    audit.record(session, actor, "organizer.sign_out_everywhere", target,
                 [audit_detail.line(N_("%(num)s session(s) ended"), num=ended)])
    return target


def reset_two_factor(session: Session, actor: Organizer, organizer_id: int) -> Organizer:
    """For someone who lost both their authenticator and their recovery codes: turn
    two-factor off and sign them out; they set it up again after their password."""
    target = session.get(Organizer, organizer_id, with_for_update=True)
    if target is None:
        raise LookupError(organizer_id)
    two_factor.disable(session, actor, target)
    login_sessions.end_all(session, organizer_id)
    return target


# --- Own transaction: what the account pages call ------------------------------------------
# Services open the write transactions (as everywhere): each page action is one transaction
# holding the change and its audit entry, so a refused change leaves no trace.

ACCOUNT_ACTIONS = frozenset({"make_admin", "make_organizer", "activate", "deactivate",
                             "send_link", "sign_out_everywhere", "reset_two_factor"})


def add_organizer(actor: Organizer, *, email: str, name: str,
                  admin: bool = False) -> tuple[Organizer, list[int]]:
    """`invite_organizer` in its own write transaction (FormError); returns the account and
    the outbox id of its invitation, to deliver after the response."""
    with write_session() as session:
        organizer, sent = invite_organizer(session, email=email, name=name, admin=admin,
                                           actor=actor)
        return organizer, [sent.mail_id] if sent.mail_id else []


def account_action(actor: Organizer, organizer_id: int, action: str,
                   mail_ids: list[int] | None = None) -> Organizer:
    """One of ACCOUNT_ACTIONS on one account, in its own write transaction (LookupError for
    no such account, FormError when refused, ValueError for an unknown action). The outbox
    ids of e-mails queued ("send_link") are added to `mail_ids`."""
    if action not in ACCOUNT_ACTIONS:
        raise ValueError(action)
    with write_session() as session:
        if action in ("make_admin", "make_organizer"):
            role = Role.ADMIN if action == "make_admin" else Role.ORGANIZER
            return update_account(session, actor, organizer_id, role=role)
        if action in ("activate", "deactivate"):
            return update_account(session, actor, organizer_id, active=action == "activate")
        if action == "send_link":
            target, sent = send_link(session, actor, organizer_id)
            if sent.mail_id is not None and mail_ids is not None:
                mail_ids.append(sent.mail_id)
            return target
        if action == "sign_out_everywhere":
            return sign_out_everywhere(session, actor, organizer_id)
        return reset_two_factor(session, actor, organizer_id)


def require_two_factor(actor: Organizer, required: bool) -> None:
    """Require (or stop requiring) two-factor sign-in site-wide (own write transaction)."""
    with write_session() as session:
        two_factor.set_required(session, actor, required)


def change_own_password(organizer_id: int, current: str, new: str) -> \
        tuple[Organizer, dict[str, str]]:
    """`auth.change_password` for the signed-in account, re-read in its own write
    transaction; returns the account and the field errors (empty on success)."""
    with write_session() as session:
        me = session.get(Organizer, organizer_id, with_for_update=True)
        if me is None:
            raise LookupError(organizer_id)
        return me, auth.change_password(session, me, current, new)
