"""The request's cookies, read through the per-header-value memo in web/sessions.py: the
same Cookie header always gives the same values, a changed one its own, and the memo stays
within its byte budget whatever clients send."""

from __future__ import annotations

from events_app.web import sessions


def _scope(*cookie_headers: bytes) -> dict:
    return {"type": "http", "headers": [(b"host", b"x"),
                                        *((b"cookie", value) for value in cookie_headers)]}


def test_same_header_twice_reads_the_same_values() -> None:
    header = b"csrftoken=" + b"a" * 43 + b"; lang=es"
    first, second = _scope(header), _scope(header)
    assert sessions.read_cookie(first, "lang") == "es"
    assert sessions.read_cookie(second, "lang") == "es"
    assert sessions.read_cookie(second, "csrftoken") == "a" * 43
    assert sessions.read_cookie(second, "organizer_sid") is None


def test_a_changed_header_gives_its_own_values() -> None:
    assert sessions.read_cookie(_scope(b"lang=es"), "lang") == "es"
    assert sessions.read_cookie(_scope(b"lang=en"), "lang") == "en"
    assert sessions.read_cookie(_scope(), "lang") is None


def test_first_header_wins() -> None:
    assert sessions.read_cookie(_scope(b"lang=es", b"lang=en"), "lang") == "es"


def test_odd_headers_read_the_same_from_the_memo_as_parsed_afresh() -> None:
    for headers in ((b'lang="es', b"lang=en"), (b'x="b; ;;==', b"y=1"), (b"\xff=1",),
                    (b"a=1; a=2",), (b";;;",)):
        fresh = sessions._parse(headers)
        for _ in range(2):
            scope = _scope(*headers)
            assert {name: sessions.read_cookie(scope, name)
                    for name in ("lang", "x", "y", "a", "\xff")} == {
                name: fresh.get(name) for name in ("lang", "x", "y", "a", "\xff")}


def test_memo_stays_within_its_budget() -> None:
    for i in range(3000):
        sessions.read_cookie(_scope(f"n{i}={'v' * 500}".encode()), f"n{i}")
    assert sessions._parsed.weight <= sessions._COOKIE_CACHE_BYTES
    assert len(sessions._parsed) <= sessions._parsed.max_entries
