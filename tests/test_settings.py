"""Settings: a generated SECRET_KEY is kept on disk and shared, never a hard-coded default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SNIPPET = "from events_app import settings; print(settings.SECRET_KEY)"


def run_settings(tmp_path: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    out = subprocess.run([sys.executable, "-c", SNIPPET], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_secret_key_is_generated_once_and_reused(tmp_path: Path) -> None:
    first = run_settings(tmp_path)
    assert len(first) >= 40
    key_file = tmp_path / ".secret_key"
    assert key_file.read_text().strip() == first
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only
    assert run_settings(tmp_path) == first
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert run_settings(other) != first  # random, not a built-in default


def test_bad_default_timezone_is_refused(tmp_path: Path) -> None:
    env = {**os.environ, "DEFAULT_TIMEZONE": "Mars/Olympus_Mons"}
    out = subprocess.run([sys.executable, "-c", SNIPPET], cwd=tmp_path, env=env,
                         capture_output=True, text=True)
    assert out.returncode != 0
    assert "DEFAULT_TIMEZONE" in out.stderr


def test_allowed_hosts_come_from_the_environment_or_base_url(tmp_path: Path) -> None:
    snippet = "from events_app import settings; print(','.join(settings.ALLOWED_HOSTS))"

    def hosts(**env: str) -> str:
        full = {**{k: v for k, v in os.environ.items() if k != "ALLOWED_HOSTS"}, **env}
        return subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=full,
                              capture_output=True, text=True, check=True).stdout.strip()

    assert hosts(BASE_URL="https://events.example.org") == "events.example.org"
    assert hosts(BASE_URL="https://events.example.org",
                 ALLOWED_HOSTS="events.example.org, *.example.net") == \
        "events.example.org,*.example.net"
