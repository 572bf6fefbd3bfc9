"""Keep private links out of the server's access log.

A manage link (/rsvp/<token>) changes or cancels someone's RSVP, a personal-feed link
(/my/<token>) shows every event a person RSVP'd to, and an organizer's invitation or reset
link (/organizer/welcome/<token>, /organizer/reset/<token>) sets their password: whoever
reads a log file must get none of them. uvicorn logs each request line; `RedactTokens`
rewrites the path in that record before any handler formats it, and `log_config()` is the
uvicorn logging configuration with the filter installed, which `events-app serve` passes to
uvicorn (every worker process configures its logging from it).
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

# The segment after /rsvp/ or /my/, up to the next "/", "?" or "#". The RSVP form's own
# address (/events/<slug>/rsvp) has no segment after it, so it is logged as is.
_PRIVATE_SEGMENT = re.compile(r"(/(?:rsvp|my|organizer/welcome|organizer/reset)/)[^/?#\s\"]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """`text` with every manage, feed or account-link token replaced by [redacted]."""
    return _PRIVATE_SEGMENT.sub(lambda m: m.group(1) + REDACTED, text)


class RedactTokens(logging.Filter):
    """Redact tokens in the record's message and its string arguments (uvicorn's access
    record carries the path as an argument, formatted later by its AccessFormatter)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: redact(v) if isinstance(v, str) else v
                           for k, v in record.args.items()}
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's default logging configuration plus the redacting filter on its loggers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_tokens"] = {"()": f"{__name__}.RedactTokens"}
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        config["loggers"].setdefault(name, {}).setdefault("filters", []).append("redact_tokens")
    return config
