"""The baseline every figure is divided by: a bare Starlette endpoint replaying recorded bytes.

For each page the benchmark records the app's real response (status, headers, body) into
BENCH_BASELINE_DIR; this app, run under the same uvicorn settings, answers the same request
(picked by its `X-Bench-Key` header) with those bytes, read once per process. The ratio
app/baseline is then what the app's own work costs, on whatever machine runs the benchmark.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

RECORDINGS = Path(os.environ.get("BENCH_BASELINE_DIR", "."))
_KEY = re.compile(r"[a-z0-9-]{1,80}")
_responses: dict[str, dict[str, Any]] = {}


def _recorded(key: str) -> dict[str, Any] | None:
    if key not in _responses:
        path = RECORDINGS / f"{key}.pickle"
        if not _KEY.fullmatch(key) or not path.is_file():
            return None
        _responses[key] = pickle.loads(path.read_bytes())  # written by bench/run.py
    return _responses[key]


async def replay(request: Request) -> Response:
    if request.method == "POST":
        await request.body()  # the app reads every form it is sent
    rec = _recorded(request.headers.get("x-bench-key", ""))
    if rec is None:
        return PlainTextResponse("no recording for this key", status_code=404)
    return Response(rec["body"], status_code=rec["status"], headers=rec["headers"])


app = Starlette(routes=[Route("/{path:path}", replay, methods=["GET", "HEAD", "POST"])])
