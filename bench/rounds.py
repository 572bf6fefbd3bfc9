"""Alternating rounds: a page's app and baseline measured in turns, and each side's runs combined.

On a shared machine the load moves within seconds: measured one after the other (the app's
whole run, then the baseline's), the two sides of a ratio could meet different loads. Split
into rounds taken in turns (app, baseline, baseline, app, ...), both sides meet the same, and
rounds that disagree show when the load moved. What rounds cannot remove is a swing set when
the servers start: the 2.5 MB feed's ratio still went 0.88-1.42 over five runs of one build,
four on a quiet machine (SQLite, 1 worker), the two rounds of each run within 0.16 of each other,
while the servers' CPU per request (cpu-r) stayed 0.92-0.99 of the baseline's; for such a
body, read cpu-r. Kept apart from bench/run.py, which only decides what is measured.
"""

from __future__ import annotations

from dataclasses import replace
from statistics import median

from bench.servers import WrkResult

APP, BASELINE = "app", "baseline"


def split_seconds(total: float, rounds: int) -> list[int]:
    """`total` seconds of wrk as `rounds` runs: whole seconds (wrk's -d takes no fraction),
    at least one each (fewer rounds when `total` is too short), summing to `total` rounded,
    longest first. 5 s in 2 rounds: [3, 2], so a side's measuring time stays what it was."""
    whole = max(1, round(total))
    count = max(1, min(rounds, whole))
    each, longer = divmod(whole, count)
    return [each + 1] * longer + [each] * (count - longer)


def order(rounds: int) -> list[str]:
    """The sides' turns: the app first in the first round, the baseline first in the second
    (app, baseline, baseline, app, ...), so a load that rises or falls through the page's
    measurement weighs on both sides alike instead of always on the side that runs second.
    Each round's two runs are next to each other in time, and of the same length."""
    turns: list[str] = []
    for n in range(rounds):
        turns += [APP, BASELINE] if n % 2 == 0 else [BASELINE, APP]
    return turns


def combine(results: list[WrkResult]) -> WrkResult:
    """One side's rounds as one run: requests, seconds, errors and wrk's CPU summed, so req/s
    is all the requests over all the seconds (a round of 3 s weighs more than one of 2 s);
    latency percentiles cannot be summed, so each is the median of the rounds' (with two
    rounds, their mean), the maximum the largest. Starts when the first round started."""
    if not results:
        raise ValueError("no rounds to combine")
    if len(results) == 1:
        return results[0]
    requests = sum(r.requests for r in results)
    seconds = sum(r.seconds for r in results)
    errors: dict[str, int] = {}
    statuses: dict[str, int] = {}
    for r in results:
        for kind, n in r.errors.items():
            errors[kind] = errors.get(kind, 0) + n
        for status, n in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
    return replace(results[0], requests=requests, seconds=seconds,
                   rps=requests / seconds if seconds else 0.0,
                   p50_ms=median(r.p50_ms for r in results),
                   p90_ms=median(r.p90_ms for r in results),
                   p99_ms=median(r.p99_ms for r in results),
                   max_ms=max(r.max_ms for r in results), errors=errors, statuses=statuses,
                   started_at=min(r.started_at for r in results),
                   cpu_seconds=sum(r.cpu_seconds for r in results))


def ratio(app: WrkResult, base: WrkResult) -> float:
    """The app's req/s over the baseline's (0 when the baseline answered nothing)."""
    return app.rps / base.rps if base.rps else 0.0
