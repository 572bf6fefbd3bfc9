"""E-mails go out in the language the person used (services/messages.py): an RSVP's in the
language of the page it was made on, an organizer's account mails in the language of their
account, whoever causes the e-mail and in whatever language they work. Subjects, dates and
every sentence of the templates included, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from babel.messages.pofile import read_po
from sqlmodel import select

from events_app import i18n
from events_app.db import read_session, write_session
from events_app.models import Event, Organizer, Outbox
from events_app.services import (
    account_links,
    attendee_mail,
    auth,
    event_admin,
    organizers,
    reminders,
)
from events_app.services import mail as mail_service
from events_app.services import rsvp as svc
from tests.factories import make_event, make_rsvp
from tests.organizer_support import (
    cheap_passwords,  # noqa: F401 - fixture
    edit_event,
    login,
    mailed_link,
    make_organizer,
)
from tests.rsvp_helpers import outbox, post_rsvp, req, rsvps

pytestmark = pytest.mark.usefixtures("cheap_passwords")

START = datetime(2031, 6, 14, 23, 0, tzinfo=UTC)  # Sat 14 Jun 2031, 6:00 PM CDT
WHEN = {"en": "Sat 14 Jun 2031, 6:00 PM – 8:00 PM CDT",
        "es": "sáb 14 jun 2031, 18:00 – 20:00 CDT"}
TITLE = "Budget town hall"


def _mail_texts() -> list[tuple[str, str]]:
    """(English, Spanish) of every text the e-mails are written with: the mail templates'
    and services/messages.py's, as the Spanish catalog holds them."""
    with i18n.catalog_path("es").open("rb") as po:
        catalog = read_po(po, locale="es")
    texts = []
    for m in catalog:
        if not m.id or not any("mail" in f or "messages.py" in f for f, _ in m.locations):
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        texts += [(source.split("%(")[0].strip(), translated.split("%(")[0].strip())
                  for source, translated in zip(ids, strings, strict=False)]
    # Texts long enough to mean something (not "When", not a bare placeholder).
    return [(en, es) for en, es in texts if len(en) > 12 and en != es]


MAIL_TEXTS = _mail_texts()


def assert_written_in(mail: Outbox, language: str) -> None:
    """The whole message speaks `language`: no sentence of the other one, in either part;
    and it says so, in the outbox row and the Content-Language header the sender writes."""
    assert mail.language == language
    assert mail_service.build_message(mail)["Content-Language"] == language
    other = 0 if language == "es" else 1
    for body in (mail.subject, mail.body_text, mail.body_html):
        leaked = [pair[other] for pair in MAIL_TEXTS if pair[other] in body]
        assert not leaked, f"{mail.kind} in {language} has {leaked}:\n{body}"
    if mail.body_html:
        assert f'<html lang="{language}">' in mail.body_html


def test_the_check_above_finds_english_in_a_spanish_mail() -> None:
    """assert_written_in can fail (and the catalog gives it texts to look for)."""
    assert len(MAIL_TEXTS) > 60
    english = Outbox(kind="x", to_addr="a@example.org", subject="Asistencia confirmada: X",
                     body_text="Hola, Ana:\n\nThe organizers have undone its cancellation, so "
                               "please ignore the cancellation e-mail we sent you.",
                     language="es")
    with pytest.raises(AssertionError, match="undone its cancellation"):
        assert_written_in(english, "es")


def _mail(kind: str, to: str) -> Outbox:
    (found,) = [m for m in outbox(kind) if m.to_addr == to]
    return found


def _rsvp_on_page(client, slug: str, email: str, language: str, **fields: object):
    """RSVP through the public form, the page in `language` (the switcher's ?lang=, which
    the cookie then keeps for the form's post)."""
    assert client.get(f"/events/{slug}?lang={language}").status_code == 200
    return post_rsvp(client, slug, email=email, name=email.split("@")[0].title(), **fields)


# --- RSVPs: the language of the page they were made on --------------------------------------

def test_confirmation_and_waitlist_in_the_language_of_the_rsvp_page(client) -> None:
    event = make_event(title=TITLE, starts_at=START, capacity=2, waitlist_enabled=True)
    assert _rsvp_on_page(client, event.slug, "ana@example.org", "es").status_code < 400
    assert _rsvp_on_page(client, event.slug, "ben@example.org", "en").status_code < 400
    assert _rsvp_on_page(client, event.slug, "cruz@example.org", "es").status_code < 400
    client.cookies.clear()
    assert post_rsvp(client, event.slug, email="dee@example.org", name="Dee",
                     ).status_code < 400  # no choice, no Accept-Language: the site default
    stored = rsvps(event.id)
    assert {e: r.language for e, r in stored.items()} == {
        "ana@example.org": "es", "ben@example.org": "en", "cruz@example.org": "es",
        "dee@example.org": "en"}

    ana = _mail("confirmation", "ana@example.org")
    assert ana.subject == f"Asistencia confirmada: {TITLE}"
    assert "Hola, Ana:" in ana.body_text and "¡Nos vemos allí!" in ana.body_text
    assert f"Cuándo: {WHEN['es']}" in ana.body_text and WHEN["es"] in ana.body_html
    assert "(1 plaza)" in ana.body_text and "solo usted" in ana.body_text
    assert_written_in(ana, "es")

    ben = _mail("confirmation", "ben@example.org")
    assert ben.subject == f"You're going: {TITLE}"
    assert f"When: {WHEN['en']}" in ben.body_text and "just you (1 spot)" in ben.body_text
    assert_written_in(ben, "en")

    cruz = _mail("waitlisted", "cruz@example.org")
    assert cruz.subject == f"Está en la lista de espera: {TITLE}"
    assert "Está en el puesto 1 de la lista de espera." in cruz.body_text
    assert_written_in(cruz, "es")
    dee = _mail("waitlisted", "dee@example.org")
    assert dee.subject == f"You're on the waitlist: {TITLE}"
    assert "You are number 2 on the waitlist." in dee.body_text
    assert_written_in(dee, "en")


def test_promotion_and_cancellation_each_in_their_own_language(db_url: str) -> None:
    """Ben (English) cancels; Cruz (Spanish) moves up and is told in Spanish, Ben in English,
    though the same request causes both."""
    event = make_event(title=TITLE, starts_at=START, capacity=2, waitlist_enabled=True)
    with i18n.using("en"):
        ben = svc.submit_rsvp(event.id, req("ben@example.org", guests=1)).rsvp
    with i18n.using("es"):
        svc.submit_rsvp(event.id, req("cruz@example.org", guests=1))
    with i18n.using("en"):
        svc.cancel_rsvp(ben.token)

    cruz = _mail("promoted", "cruz@example.org")
    assert cruz.subject == f"Se liberó una plaza y su asistencia está confirmada: {TITLE}"
    assert "usted y 1 acompañante" in cruz.body_text
    assert "BEGIN:VCALENDAR" in cruz.ics
    assert_written_in(cruz, "es")
    cancelled = _mail("cancelled", "ben@example.org")
    assert cancelled.subject == f"RSVP cancelled: {TITLE}"
    assert_written_in(cancelled, "en")


def test_a_spanish_person_cancelling_is_told_in_spanish(db_url: str) -> None:
    event = make_event(title=TITLE, starts_at=START)
    with i18n.using("es"):
        token = svc.submit_rsvp(event.id, req("ana@example.org")).rsvp.token
    svc.cancel_rsvp(token)  # the manage page in the site default: the RSVP's language counts
    mail = _mail("cancelled", "ana@example.org")
    assert mail.subject == f"Asistencia cancelada: {TITLE}"
    assert "Su confirmación de asistencia a Budget town hall está cancelada." in mail.body_text
    assert_written_in(mail, "es")


def test_rsvping_again_after_cancelling_takes_the_new_pages_language(db_url: str) -> None:
    event = make_event(title=TITLE, starts_at=START)
    with i18n.using("en"):
        svc.cancel_rsvp(svc.submit_rsvp(event.id, req("ana@example.org")).rsvp.token)
    with i18n.using("es"):
        svc.submit_rsvp(event.id, req("ana@example.org"))
    assert rsvps(event.id)["ana@example.org"].language == "es"
    assert [m.subject for m in outbox("confirmation")] == [
        f"You're going: {TITLE}", f"Asistencia confirmada: {TITLE}"]



def test_already_and_calendar_link_mails_in_the_rsvps_language(db_url: str) -> None:
    """The RSVP's language, not that of the later request (the form sent again in English,
    the manage page in English)."""
    event = make_event(title=TITLE, starts_at=START)
    with i18n.using("es"):
        token = svc.submit_rsvp(event.id, req("ana@example.org")).rsvp.token
    with i18n.using("en"):
        svc.submit_rsvp(event.id, req("ana@example.org"))
        svc.rotate_calendar(token)
    already = _mail("already", "ana@example.org")
    assert already.subject == f"Ya había confirmado su asistencia: {TITLE}"
    assert "Tiene la asistencia confirmada: solo usted." in already.body_text
    link = _mail("calendar_link", "ana@example.org")
    assert link.subject.startswith("Su nuevo enlace de calendario · ")
    for mail in (already, link):
        assert_written_in(mail, "es")


def _attendees(owner: Organizer) -> Event:
    """Ana confirmed in Spanish, Ben confirmed in English, Cruz waitlisted in Spanish."""
    event = make_event(owner_id=owner.id, title=TITLE, starts_at=START)
    make_rsvp(event, "Ana", "ana@example.org", language="es")
    make_rsvp(event, "Ben", "ben@example.org", language="en")
    make_rsvp(event, "Cruz", "cruz@example.org", status="waitlisted", language="es")
    return event


def test_time_change_in_each_attendees_language(owner) -> None:
    event = _attendees(owner)
    with i18n.using("en"):  # the organizer works in English
        assert edit_event(owner, event, notify=True, start_time="19:30",
                          end_time="21:00").notified == 3
    ana = _mail("event_changed", "ana@example.org")
    assert ana.subject == f"Cambio de hora: {TITLE}"
    assert f"Hora anterior: {WHEN['es']}" in ana.body_text
    assert "Hora nueva: sáb 14 jun 2031, 19:30 – 21:00 CDT" in ana.body_text
    assert "Su plaza sigue confirmada" in ana.body_text and ana.ics
    assert_written_in(ana, "es")
    cruz = _mail("event_changed", "cruz@example.org")
    assert "Sigue en la lista de espera" in cruz.body_text and not cruz.ics
    assert_written_in(cruz, "es")
    ben = _mail("event_changed", "ben@example.org")
    assert ben.subject == f"Time changed: {TITLE}"
    assert "Time now: Sat 14 Jun 2031, 7:30 PM – 9:00 PM CDT" in ben.body_text
    assert_written_in(ben, "en")


def test_place_change_says_place_in_spanish(owner) -> None:
    event = _attendees(owner)
    edit_event(owner, event, notify=True, venue_name="Union Station")
    ana = _mail("event_changed", "ana@example.org")
    assert ana.subject == f"Cambio de lugar: {TITLE}"
    assert "Lugar nuevo: Union Station, St. Louis" in ana.body_text
    assert_written_in(ana, "es")


def test_event_cancelled_and_back_on_in_each_attendees_language(owner) -> None:
    event = _attendees(owner)
    with i18n.using("en"):
        event_admin.cancel_event(owner, event.slug, "The hall flooded.")
    ana = _mail("event_cancelled", "ana@example.org")
    assert ana.subject == f"Evento cancelado: {TITLE}"
    assert "Mensaje de los organizadores:\nThe hall flooded." in ana.body_text
    assert_written_in(ana, "es")
    ben = _mail("event_cancelled", "ben@example.org")
    assert ben.subject == f"Cancelled: {TITLE}"
    assert_written_in(ben, "en")

    with i18n.using("en"):
        event_admin.uncancel_event(owner, event.slug)
    back = _mail("event_uncancelled", "ana@example.org")
    assert back.subject == f"Vuelve a estar en pie: {TITLE}"
    assert_written_in(back, "es")
    assert _mail("event_uncancelled", "ben@example.org").subject == f"Back on: {TITLE}"


def test_reminder_in_the_attendees_language_with_its_date(db_url: str) -> None:
    event = make_event(title=TITLE, starts_at=START)
    make_rsvp(event, "Ana", "ana@example.org", language="es")
    make_rsvp(event, "Ben", "ben@example.org", language="en")
    assert reminders.queue_reminders(now=START - timedelta(hours=3),
                                     lead=timedelta(hours=24)) == 2
    ana = _mail("reminder", "ana@example.org")
    assert ana.subject == f"Recordatorio: {TITLE}, sáb 14 jun, 18:00 CDT"
    assert "Le recordamos que Budget town hall se celebra pronto" in ana.body_text
    assert_written_in(ana, "es")
    ben = _mail("reminder", "ben@example.org")
    assert ben.subject == f"Reminder: {TITLE}, Sat 14 Jun, 6:00 PM CDT"
    assert_written_in(ben, "en")


def test_organizers_message_framed_in_each_attendees_language(owner) -> None:
    event = _attendees(owner)
    attendee_mail.message_attendees(owner, event.slug, "Bring water", "Hi all,\n\nSee you.")
    ana = _mail("organizer_message", "ana@example.org")
    assert ana.subject == f"{TITLE}: Bring water"  # the organizer's words stay theirs
    assert "— Olga Owner, en nombre de los organizadores de Budget town hall." in ana.body_text
    assert_written_in(ana, "es")
    ben = _mail("organizer_message", "ben@example.org")
    assert "— Olga Owner, for the organizers of Budget town hall." in ben.body_text


def test_a_language_without_a_catalog_any_more_falls_back_to_the_default(db_url: str) -> None:
    event = make_event(title=TITLE, starts_at=START)
    make_rsvp(event, "Kai", "kai@example.org", language="xx")
    assert reminders.queue_reminders(now=START - timedelta(hours=3),
                                     lead=timedelta(hours=24)) == 1
    assert _mail("reminder", "kai@example.org").subject.startswith(f"Reminder: {TITLE}")


# --- Organizer accounts: the account's language ----------------------------------------------

def _account(email: str) -> Organizer:
    with read_session() as s:
        return s.exec(select(Organizer).where(Organizer.email == email)).one()


def test_invitation_in_the_language_of_whoever_made_the_account(db_url: str) -> None:
    with i18n.using("es"), write_session() as s:
        organizers.invite_organizer(s, email="nia@example.org", name="Nia Nueva", admin=True)
    with write_session() as s:
        organizers.invite_organizer(s, email="ned@example.org", name="Ned New")
    assert _account("nia@example.org").language == "es"
    assert _account("ned@example.org").language == "en"

    nia = _mail("invitation", "nia@example.org")
    assert nia.subject.startswith("Su cuenta de organizador en ")
    assert "Hola, Nia Nueva:" in nia.body_text
    assert "El administrador del sitio le ha creado una cuenta" in nia.body_text
    assert "con permisos de administrador" in nia.body_text
    assert mailed_link("nia@example.org", "invitation") in nia.body_text
    assert_written_in(nia, "es")
    ned = _mail("invitation", "ned@example.org")
    assert ned.subject.startswith("Your organizer account on ")
    assert "The site's administrator made you an organizer account" in ned.body_text
    assert_written_in(ned, "en")


def test_the_test_message_to_the_organizer_says_its_language(owner) -> None:
    """The organizer's test of an attendee e-mail, queued by its own path (send_test)."""
    event = _attendees(owner)
    with i18n.using("es"):
        draft = attendee_mail.Draft(attendee_mail.Audience.CONFIRMED, "Traigan agua", "Hola.")
        _, shown, msg_id = attendee_mail.send_test(owner, event.slug, draft)
    with read_session() as s:
        mail = s.get(Outbox, msg_id)
    assert mail is not None and mail.language == shown.content.language
    assert mail_service.build_message(mail)["Content-Language"] == mail.language


def test_a_message_queued_before_the_outbox_knew_its_language_has_no_header() -> None:
    """Rows from before 0016_outbox_language have language "": no header, not a guess."""
    old = Outbox(kind="confirmation", to_addr="a@example.org", subject="Hi", body_text="Hello")
    assert "Content-Language" not in mail_service.build_message(old)


def test_reset_in_the_accounts_language_whoever_asks(db_url: str) -> None:
    make_organizer("olga@example.org", "Olga")
    with write_session() as s:
        s.get(Organizer, _account("olga@example.org").id).language = "es"
    with i18n.using("en"):  # the "forgot password" page in English
        assert account_links.request_reset("olga@example.org", "1.2.3.4").mail_ids
    mail = _mail("password_reset", "olga@example.org")
    assert mail.subject.startswith("Restablezca su contraseña · ")
    assert "Elija aquí una contraseña nueva:" in mail.body_text
    assert "«¿Olvidó su contraseña?»" in mail.body_text
    assert_written_in(mail, "es")


def test_reset_in_english_for_an_english_account(db_url: str) -> None:
    make_organizer("olga@example.org", "Olga")
    with i18n.using("es"):
        account_links.request_reset("olga@example.org", "1.2.3.4")
    mail = _mail("password_reset", "olga@example.org")
    assert mail.subject.startswith("Reset your password · ")
    assert_written_in(mail, "en")


def test_signing_in_records_the_language_used(client) -> None:
    make_organizer("olga@example.org", "Olga")
    with i18n.using("es"):
        assert auth.authenticate("olga@example.org", "x", "1.2.3.4").organizer is None
    assert _account("olga@example.org").language == "en"  # a wrong password changes nothing
    client.get("/organizer/login?lang=es")
    assert login(client, "olga@example.org").status_code == 303
    assert _account("olga@example.org").language == "es"



def test_translated_sentences_escape_what_visitors_typed(db_url: str) -> None:
    """Sentences with the title or name inside are translated whole, and what fills them in
    is escaped in the HTML part (and only there), in every language."""
    event = make_event(title="Rally <b>now</b> & later", starts_at=START)
    with i18n.using("es"):
        svc.submit_rsvp(event.id, req("ana@example.org", name="<i>Ana</i>"))
    mail = _mail("confirmation", "ana@example.org")
    assert "Hola, &lt;i&gt;Ana&lt;/i&gt;:" in mail.body_html
    # The title has no Spanish text: the English one, marked as such (and escaped).
    assert ('Su plaza en <span lang="en">Rally &lt;b&gt;now&lt;/b&gt; &amp; later</span> está '
            "confirmada") in mail.body_html
    assert "<b>now</b>" not in mail.body_html
    assert "Su plaza en Rally <b>now</b> & later está confirmada" in mail.body_text
