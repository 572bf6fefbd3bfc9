"""events_app.serving: workers with one SO_REUSEPORT socket each, under a supervisor.

Real processes on a free port: a tiny app that answers its pid (tests/pid_app.py) shows
which worker took each connection; `events-app serve` with the real app starts, answers and
stops here too (its redacted access log, two workers, is tests/test_access_log.py's).
"""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from events_app.serving import ALL_SERVING, STARTUP_FAILURE, plan, reuseport_available
from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.skipif(not reuseport_available(), reason="no SO_REUSEPORT here")


class Launched:
    def __init__(self, proc: subprocess.Popen, port: int, log: Path) -> None:
        self.proc, self.port, self.log = proc, port, log

    def pid_of_answer(self) -> int:
        """One request on a new connection: the pid of the worker that answered."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", "/")
            resp = conn.getresponse()
            assert resp.status == 200
            return int(resp.read())
        finally:
            conn.close()

    def children(self) -> set[int]:
        """The supervisor's worker processes (multiprocessing's resource tracker aside)."""
        out = set()
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                    cmdline = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if (int(stat.rpartition(")")[2].split()[1]) == self.proc.pid
                        and b"resource_tracker" not in cmdline):
                    out.add(int(entry.name))
        return out

    def answering(self, workers: int, timeout: float = 30) -> set[int]:
        """Keep opening connections until `workers` distinct pids answered; those pids."""
        seen: set[int] = set()
        deadline = time.monotonic() + timeout
        while len(seen) < workers:
            assert self.proc.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, (seen, self.log.read_text())
            try:
                seen.add(self.pid_of_answer())
            except OSError:
                time.sleep(0.1)
        return seen


def launch(tmp_path: Path, app: str = "tests.pid_app:app", workers: int = 2,
           port: int | None = None, command: list[str] | None = None,
           env: dict[str, str] | None = None) -> Launched:
    """`python -m events_app.serving APP` (or `command`) on a free port."""
    port = free_port() if port is None else port
    log = tmp_path / f"serving-{port}-{time.monotonic_ns()}.log"
    env = {**os.environ, **(env or {}),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen(
        [*(command or [sys.executable, "-m", "events_app.serving", app, "--log-level", "info"]),
         "--port", str(port), "--workers", str(workers)],
        env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)  # its own process group, as in a terminal of its own
    return Launched(proc, port, log)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Launched]:
    server = launch(tmp_path)
    yield server
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait()
        for pid in server.children():
            os.kill(pid, signal.SIGKILL)


def test_events_app_serve_runs_the_real_app_in_two_balanced_workers(
        db_url: str, tmp_path: Path) -> None:
    """The real command and app: both workers start, pages answer on many connections, and
    SIGTERM stops them all."""
    served = launch(tmp_path, command=[sys.executable, "-m", "events_app.cli", "serve"],
                    env={"DATABASE_URL": db_url})
    try:
        deadline = time.monotonic() + 60
        while ALL_SERVING % 2 not in served.log.read_text():
            assert served.proc.poll() is None and time.monotonic() < deadline, \
                served.log.read_text()
            time.sleep(0.2)
        workers = served.children()
        assert len(workers) == 2
        for _ in range(16):  # a new connection each time, so both workers take some
            conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
            conn.request("GET", "/events", headers={"Host": f"127.0.0.1:{served.port}"})
            assert conn.getresponse().status == 200
            conn.close()
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(timeout=60) == 0
        assert all(_state(pid) in ("gone", "Z") for pid in workers)
    finally:
        if served.proc.poll() is None:
            os.killpg(served.proc.pid, signal.SIGKILL)
            served.proc.wait()


def test_plan_uses_reuseport_for_several_workers_and_falls_back_without_it() -> None:
    assert plan(workers=2, reload=False, reuseport=True) == "reuseport"
    assert plan(workers=2, reload=False, reuseport=False) == "uvicorn"
    assert plan(workers=1, reload=False, reuseport=True) == "single"
    assert plan(workers=4, reload=True, reuseport=True) == "single"


def test_every_worker_takes_connections(served: Launched) -> None:
    workers = served.answering(2)
    assert workers == served.children()
    # The kernel spreads new connections by hash: 64 of them all on one of two workers
    # would be a 1-in-2**63 event.
    answers = [served.pid_of_answer() for _ in range(64)]
    assert set(answers) == workers
    assert "one SO_REUSEPORT socket each" in served.log.read_text()
    deadline = time.monotonic() + 10  # the line the benchmark waits for (bench/servers.py)
    while ALL_SERVING % 2 not in served.log.read_text():
        assert time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.1)


def test_sigterm_stops_the_supervisor_and_every_worker(served: Launched) -> None:
    workers = served.answering(2)
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(timeout=30) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "Z" in _state(pid)
    with pytest.raises(OSError):
        served.pid_of_answer()


def test_ctrl_c_stops_everything_cleanly(served: Launched) -> None:
    """A terminal's Ctrl+C signals the whole process group: supervisor and workers."""
    workers = served.answering(2)
    os.killpg(served.proc.pid, signal.SIGINT)
    assert served.proc.wait(timeout=30) == 0
    for pid in workers:
        assert _state(pid) in ("gone", "Z")
    log = served.log.read_text()
    assert "Received SIGINT" in log and "Traceback" not in log


def test_sighup_replaces_every_worker_and_the_port_never_stops_listening(
        served: Launched) -> None:
    """A connection is never refused. One the old worker had just accepted, before its
    request arrived, can be closed by its graceful stop (uvicorn closes idle connections),
    as with any uvicorn restart: a reset is not what this checks."""
    old = served.answering(2)
    answers: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def keep_asking() -> None:
        while not done.is_set():
            try:
                answers.append(served.pid_of_answer())
            except ConnectionRefusedError as exc:
                failures.append(exc)
            except ConnectionResetError:
                pass

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        served.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while served.children() & old or len(served.children()) != 2:
            assert served.proc.poll() is None, served.log.read_text()
            assert time.monotonic() < deadline, served.log.read_text()
            time.sleep(0.1)
        new = served.children()
        while not new <= set(answers[-64:]):  # both replacements take connections
            assert time.monotonic() < deadline, (new, set(answers[-64:]))
            time.sleep(0.1)
    finally:
        done.set()
        asker.join()
    assert not failures, failures[:3]
    assert served.proc.poll() is None
    assert "Received SIGHUP" in served.log.read_text()


def test_workers_stop_when_the_supervisor_is_killed(served: Launched) -> None:
    workers = served.answering(2)
    served.proc.kill()  # no chance to stop them: they notice their line to it closing
    served.proc.wait()
    deadline = time.monotonic() + 30
    while any(_state(pid) not in ("gone", "Z") for pid in workers):
        assert time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.1)


def test_a_killed_worker_is_replaced_and_the_port_keeps_answering(served: Launched) -> None:
    first = served.answering(2)
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:  # the supervisor starts another in its place, on the same socket
        workers = served.children()
        if victim not in workers and len(workers) == 2 and served.answering(2) == workers:
            break
        assert time.monotonic() < deadline, served.log.read_text()
        time.sleep(0.2)
    assert max(first) in workers
    assert served.proc.poll() is None
    assert "died" in served.log.read_text()


def test_an_app_that_cannot_start_stops_the_server_instead_of_restarting(
        tmp_path: Path) -> None:
    server = launch(tmp_path, app="tests.no_such_module:app")
    assert server.proc.wait(timeout=60) == STARTUP_FAILURE
    assert "before it served" in server.log.read_text()


def test_port_0_serves_every_worker_on_the_one_port_the_system_chose(tmp_path: Path) -> None:
    served = launch(tmp_path, port=0)
    try:
        deadline = time.monotonic() + 30
        while "Serving on http://127.0.0.1:" not in served.log.read_text():
            assert time.monotonic() < deadline, served.log.read_text()
            time.sleep(0.1)
        line = served.log.read_text().split("Serving on http://127.0.0.1:", 1)[1]
        served.port = int(line.split()[0])
        assert served.answering(2) == served.children()
    finally:
        served.proc.terminate()
        served.proc.wait(timeout=30)


def test_a_port_in_use_fails_at_once(served: Launched, tmp_path: Path) -> None:
    served.answering(2)
    # Same user, same port: SO_REUSEPORT would let a second server quietly share it.
    second = launch(tmp_path, port=served.port)
    assert second.proc.wait(timeout=30) == STARTUP_FAILURE
    assert "in use" in second.log.read_text()
    assert not second.children()
    assert served.answering(2) == served.children()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return "gone"
