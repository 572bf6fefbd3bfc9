"""bench/rounds.py: how a page's measuring time is split into rounds, in which order the app and
its baseline take their turns, and how one side's rounds are combined into the figures a row
reports. No server and no wrk here: only the arithmetic the benchmark's ratios rest on."""

from __future__ import annotations

import pytest

from bench.rounds import APP, BASELINE, combine, order, ratio, split_seconds
from bench.servers import WrkResult


def _run(requests: int, seconds: float, *, p50: float = 1.0, p99: float = 10.0,
         errors: dict[str, int] | None = None, statuses: dict[str, int] | None = None,
         started_at: float = 100.0, cpu: float = 0.5) -> WrkResult:
    return WrkResult(requests=requests, seconds=seconds, rps=requests / seconds,
                     p50_ms=p50, p90_ms=p50 * 2, p99_ms=p99, max_ms=p99 * 2,
                     errors=errors or {"connect": 0, "read": 0, "status": 0},
                     started_at=started_at, statuses=statuses or {}, cpu_seconds=cpu)


@pytest.mark.parametrize(("total", "rounds", "expected"), [
    (5, 2, [3, 2]),      # the default: each side still measured for 5 s in all
    (6, 2, [3, 3]),
    (5, 3, [2, 2, 1]),
    (5, 1, [5]),
    (2, 2, [1, 1]),
    (1, 2, [1]),         # wrk runs at least one second: fewer rounds rather than longer ones
    (0.4, 3, [1]),
    (2.6, 2, [2, 1]),    # whole seconds (wrk's -d), the total rounded
])
def test_split_seconds_keeps_the_total_in_whole_seconds(total: float, rounds: int,
                                                        expected: list[int]) -> None:
    assert split_seconds(total, rounds) == expected


def test_order_alternates_and_swaps_who_goes_first() -> None:
    assert order(1) == [APP, BASELINE]
    assert order(2) == [APP, BASELINE, BASELINE, APP]
    assert order(3) == [APP, BASELINE, BASELINE, APP, APP, BASELINE]
    for n in range(1, 6):
        turns = order(n)
        assert turns.count(APP) == turns.count(BASELINE) == n
        # every round is one run of each side, next to each other
        assert all({turns[2 * i], turns[2 * i + 1]} == {APP, BASELINE} for i in range(n))


def test_combine_gives_all_requests_over_all_seconds() -> None:
    """A slow long round and a fast short one: req/s weighs each by its time, which the mean
    of the two rates (200 req/s) would not."""
    both = combine([_run(300, 3.0), _run(600, 2.0)])
    assert (both.requests, both.seconds) == (900, 5.0)
    assert both.rps == pytest.approx(180.0)


def test_combine_sums_errors_statuses_and_cpu_and_takes_median_latencies() -> None:
    first = _run(100, 1.0, p50=2.0, p99=20.0, errors={"read": 1, "status": 2},
                 statuses={"409": 2}, started_at=50.0, cpu=0.25)
    second = _run(100, 1.0, p50=4.0, p99=60.0, errors={"read": 3, "timeout": 1},
                  statuses={"409": 1, "500": 1}, started_at=40.0, cpu=0.5)
    both = combine([first, second])
    assert both.errors == {"read": 4, "status": 2, "timeout": 1}
    assert both.statuses == {"409": 3, "500": 1}
    assert both.error_count == 7
    assert (both.p50_ms, both.p90_ms, both.p99_ms) == (3.0, 6.0, 40.0)
    assert both.max_ms == 120.0  # the worst request of any round
    assert both.started_at == 40.0
    assert both.cpu_seconds == pytest.approx(0.75)
    # the rounds themselves are left as they were
    assert first.errors == {"read": 1, "status": 2} and first.requests == 100


def test_combine_of_one_round_is_that_round() -> None:
    only = _run(123, 2.0)
    assert combine([only]) is only


def test_combine_refuses_nothing_to_combine() -> None:
    with pytest.raises(ValueError):
        combine([])


def test_ratio_is_app_over_baseline_and_zero_without_a_baseline() -> None:
    assert ratio(_run(500, 5.0), _run(1000, 5.0)) == pytest.approx(0.5)
    assert ratio(_run(500, 5.0), _run(0, 5.0)) == 0.0
