"""Manage links and personal-feed tokens never reach the server's access log."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx2
from uvicorn.logging import AccessFormatter

from events_app.db import write_session
from events_app.services import personal_feeds
from events_app.web.access_log import RedactTokens, log_config, redact
from tests.conftest import free_port
from tests.factories import make_event, make_rsvp

TOKEN = "Q" * 43


def test_redact_replaces_only_the_private_segment() -> None:
    assert redact(f"/rsvp/{TOKEN}") == "/rsvp/[redacted]"
    assert redact(f"/rsvp/{TOKEN}?m=updated") == "/rsvp/[redacted]?m=updated"
    assert redact(f"/my/{TOKEN}/calendar.ics") == "/my/[redacted]/calendar.ics"
    assert redact("/events/town-hall/rsvp") == "/events/town-hall/rsvp"
    assert redact("/events/town-hall") == "/events/town-hall"


def test_filter_rewrites_uvicorns_access_record_before_it_is_formatted() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.9:5000", "GET", f"/rsvp/{TOKEN}?m=cancelled", "1.1", 200), None)
    assert RedactTokens().filter(record) is True
    line = AccessFormatter(fmt='%(client_addr)s - "%(request_line)s" %(status_code)s',
                           use_colors=False).format(record)
    assert line == '203.0.113.9:5000 - "GET /rsvp/[redacted]?m=cancelled HTTP/1.1" 200 OK'


def test_serves_log_config_installs_the_filter_on_uvicorns_loggers() -> None:
    config = log_config()
    assert config["filters"]["redact_tokens"]["()"] == "events_app.web.access_log.RedactTokens"
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        assert "redact_tokens" in config["loggers"][name]["filters"]


def test_events_app_serve_logs_requests_without_tokens(db_url: str, tmp_path: Path) -> None:
    """The real command, two worker processes: every worker's access log is redacted."""
    event = make_event(slug="town-hall")
    rsvp = make_rsvp(event, email="ann@example.org")
    with write_session() as session:
        feed = personal_feeds.feed_for(session, "ann@example.org").token
    port = free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "DATABASE_URL": db_url, "BASE_URL": f"http://127.0.0.1:{port}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "events_app.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    try:
        paths = [f"/rsvp/{rsvp.token}", f"/rsvp/{rsvp.token}?m=updated",
                 f"/my/{feed}", f"/my/{feed}/calendar.ics", "/events/town-hall"]
        deadline = time.monotonic() + 30
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as c:
            while True:
                try:
                    c.get("/events")
                    break
                except httpx2.TransportError:
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
            for _ in range(3):  # enough requests that both workers answer some
                for path in paths:
                    assert c.get(path).status_code == 200, path
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    text = log.read_text()
    assert '"GET /events/town-hall HTTP/1.1" 200' in text  # the access log is on
    assert text.count('"GET /rsvp/[redacted] HTTP/1.1" 200') == 3
    assert '"GET /my/[redacted]/calendar.ics HTTP/1.1" 200' in text
    assert rsvp.token not in text and feed not in text
