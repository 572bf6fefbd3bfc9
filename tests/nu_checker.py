"""The W3C Nu HTML Checker (the validator behind validator.w3.org), run offline.

It comes from the npm package `vnu-jar` (installed into tools/ by `make test` and `.ci/run`)
and runs on the machine's Java (Debian's default-jre-headless). One JVM checks every document
in one call: starting Java per page would cost seconds each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT

VNU_JAR = ROOT / "tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
INSTALL_HINT = ("apt-get install default-jre-headless nodejs npm && "
                "npm ci --prefix tools --ignore-scripts")


@dataclass(frozen=True)
class Message:
    """One finding: `kind` is "error", "warning", "info" or "non-document-error"."""

    kind: str
    file: str
    line: int | None
    message: str
    extract: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        extract = " ".join(self.extract.split())
        return f"{where}: {self.kind}: {self.message}" + (f"\n    {extract}" if extract else "")


def java_command() -> list[str]:
    """`java -jar vnu.jar`, or skip (fail in CI) saying what is missing and how to get it."""
    java = shutil.which("java")
    missing = []
    if java is None:
        missing.append("Java (Debian's default-jre-headless)")
    if not VNU_JAR.exists():
        missing.append(f"the npm package vnu-jar ({VNU_JAR.relative_to(ROOT)})")
    if missing:
        reason = f"Nu HTML checker unavailable, missing {' and '.join(missing)}: {INSTALL_HINT}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: .ci/run installs them)")
        pytest.skip(reason)
    return [str(java), "-Xss1m", "-jar", str(VNU_JAR)]


def check(files: list[Path]) -> list[Message]:
    """Validate .html files as HTML and .css files as CSS, in one run of the checker."""
    assert files, "nothing to check"
    cmd = [*java_command(), "--format", "json", "--stdout", "--exit-zero-always",
           "--also-check-css", *map(str, files)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"the Nu checker did not answer in JSON (exit {done.returncode}):\n"
                    f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    found = []
    for m in report.get("messages", []):
        kind = m.get("subType", m["type"]) if m["type"] == "info" else m["type"]
        found.append(Message(kind=kind, file=Path(m.get("url", "?")).name,
                             line=m.get("lastLine"), message=m.get("message", ""),
                             extract=m.get("extract", "")))
    return found
