"""The font shipped in static/fonts/ is the npm package's, whole, with its licence."""

from __future__ import annotations

import re

import pytest

from events_app import settings
from tests.conftest import IN_CI, ROOT, SHIPPED_FONT

SHIPPED = settings.STATIC_DIR / "fonts" / "noto-sans"
PACKAGE = ROOT / "tools" / "node_modules" / "@fontsource-variable" / "noto-sans"


def test_every_face_the_stylesheet_declares_is_shipped_under_its_licence() -> None:
    css = (SHIPPED / "wght.css").read_text()
    assert set(re.findall(r"font-family: '([^']+)'", css)) == {SHIPPED_FONT}
    urls = re.findall(r"url\(\./([^)]+)\)", css)
    assert "files/noto-sans-latin-wght-normal.woff2" in urls
    for url in urls:
        assert (SHIPPED / url).read_bytes()[:4] == b"wOF2", url
    assert "SIL Open Font License" in (SHIPPED / "LICENSE").read_text()


def test_shipped_files_are_the_packages_own() -> None:
    """`make fonts` copies them from tools/ (whose package.json pins the version)."""
    if not PACKAGE.exists():
        reason = f"{PACKAGE.relative_to(ROOT)} not installed (make test installs it with npm)"
        if IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    shipped = sorted(p.relative_to(SHIPPED) for p in SHIPPED.rglob("*") if p.is_file())
    assert shipped, "no font shipped"
    for path in shipped:
        assert (SHIPPED / path).read_bytes() == (PACKAGE / path).read_bytes(), path
