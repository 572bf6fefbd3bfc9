"""Processes the benchmark drives: uvicorn servers (app and baseline) and wrk.

Kept apart from bench/run.py so the measuring loop reads as the list of things measured.
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from events_app.serving import ALL_SERVING, plan, reuseport_available

ROOT = Path(__file__).resolve().parent.parent
WRK_DIR = Path(__file__).resolve().parent / "wrk"


# --- uvicorn ---------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """`<app>` in N workers, started as `events-app serve` starts the app (events_app.serving:
    one SO_REUSEPORT socket per worker), in its own process group, on a free port. The app and
    its baseline both go through it, so their ratios compare like with like."""

    app: str
    workers: int
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None  # type: ignore[type-arg]

    def start(self, cwd: Path) -> Server:
        env = {**os.environ, **self.env, "BASE_URL": f"http://127.0.0.1:{self.port}"}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        # Identical settings for the app and its baseline; no access log for either. Info
        # level only adds start and stop lines, one of which says every worker is serving.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "events_app.serving", self.app, "--host", "127.0.0.1",
             "--port", str(self.port), "--workers", str(self.workers),
             "--log-level", "info", "--no-access-log",
             # As behind a proxy on this host: the RSVP posts' X-Forwarded-For is their
             # client address (uvicorn's defaults, spelt out).
             "--forwarded-allow-ips", "127.0.0.1"],
            env=env, cwd=cwd, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self.serving():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.app} exited:\n{self.log.read_text()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.app} did not start:\n{self.log.read_text()}")
            time.sleep(0.1)
        return self

    def serving(self) -> bool:
        """Whether every worker answers. The supervisor listens before its workers have
        imported the app, so a connection alone would let the first (cold) request wait for
        a worker's start: with several workers, wait for the supervisor to say they serve."""
        if plan(self.workers, reload=False, reuseport=reuseport_available()) == "reuseport":
            return ALL_SERVING % self.workers in self.log.read_text()
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
        except OSError:
            return False
        return len(self.worker_pids()) >= self.workers

    def worker_pids(self) -> list[int]:
        """The processes that serve requests: the server itself, or its spawned workers."""
        assert self.proc is not None
        if self.workers == 1:
            return [self.proc.pid]
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            if ppid == self.proc.pid and b"resource_tracker" not in cmdline:
                pids.append(int(entry.name))
        return sorted(pids)

    def cpu_seconds(self) -> float:
        return sum(self.cpu_by_worker().values())

    def cpu_by_worker(self) -> dict[int, float]:
        """CPU seconds (user + system) each worker has used so far, by pid."""
        out = {}
        for pid in self.worker_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            out[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return out

    def wait_idle(self, timeout: float = 300) -> None:
        """Until the workers stop using CPU: wrk stops sending when its time is up, but the
        requests it left queued are still being served and would slow the next measurement."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.cpu_seconds()
            if now - before < 0.01:
                return
            before = now

    def memory_mb(self) -> list[dict[str, float]]:
        """Peak (VmHWM) and current (VmRSS) resident memory of each worker, in MB."""
        out = []
        for pid in self.worker_pids():
            fields: dict[str, float] = {}
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    name, _, value = line.partition(":")
                    if name in ("VmHWM", "VmRSS"):
                        fields[name] = int(value.split()[0]) / 1024
            except OSError:
                continue
            out.append({"pid": pid, "peak_mb": round(fields.get("VmHWM", 0), 1),
                        "rss_mb": round(fields.get("VmRSS", 0), 1)})
        return out

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- the machine's CPU -------------------------------------------------------------------------

@dataclass(frozen=True)
class MachineCpu:
    """CPU seconds used so far: by the whole machine (busy time, every core), and by the
    processes that serve the run's database (its backends and PostgreSQL's own processes)."""

    busy: float
    database: float


def machine_cpu(database: str | None) -> MachineCpu:
    """Read from /proc. `database`: the PostgreSQL database the run uses (None: SQLite, whose
    work is inside the app's processes). Backends of other databases (other people's tests
    on a shared machine) are not the run's."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    busy = sum(cpu) - cpu[3] - cpu[4]  # all but idle and iowait
    served = 0
    for entry in Path("/proc").iterdir():
        if database is None or not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes()
            if not title.startswith(b"postgres"):
                continue
            backend = b"(" in title or b"[local]" in title  # a client's connection
            if backend and f" {database} ".encode() not in title:
                continue
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        served += int(fields[11]) + int(fields[12])
    return MachineCpu(busy / tick, served / tick)


# --- one HTTP request --------------------------------------------------------------------------

@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    ms: float

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def cookies(self) -> dict[str, str]:
        jar = {}
        for k, v in self.headers:
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                jar[name.strip()] = rest.split(";", 1)[0]
        return jar


def fetch(port: int, method: str, path: str, headers: dict[str, str],
          body: bytes | None = None, timeout: float = 600) -> Reply:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        ms = (time.perf_counter() - started) * 1000
        return Reply(resp.status, resp.getheaders(), data, ms)
    finally:
        conn.close()


# --- wrk ---------------------------------------------------------------------------------------

def wrk_binary() -> str:
    """Debian's wrk; installed with apt-get when missing and we are root, else explained."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk not found: installing Debian's package (apt-get install wrk) ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        cmd = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "wrk"]
        if subprocess.run(cmd, env=env, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=False)
            subprocess.run(cmd, env=env, check=False)
        found = shutil.which("wrk")
        if found:
            return found
    sys.exit("The benchmark drives the servers with wrk, which is not installed.\n"
             "Install it with:  sudo apt-get install wrk   (Debian/Ubuntu), then run again.")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    started_at: float  # time.time() when wrk started
    # Answers with a status of 400 or more, by status, where the script counts them
    # (rsvp.lua); wrk's own summary has only their number (errors["status"]).
    statuses: dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # wrk's own CPU time (user + system)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def error_detail(self) -> dict[str, int]:
        """What the errors were: each kind wrk counts (connect, read, write, timeout), and the
        statuses behind "status" where known ("409": 2), leaving out those at zero."""
        kinds = {k: n for k, n in self.errors.items() if n and not (k == "status"
                                                                    and self.statuses)}
        return {**kinds, **{s: n for s, n in sorted(self.statuses.items()) if n}}


def run_wrk(wrk: str, url: str, *, seconds: float, connections: int, threads: int,
            headers: dict[str, str], script: str = "report.lua",
            args: tuple[str, ...] = ()) -> WrkResult:
    cmd = [wrk, "-t", str(threads), "-c", str(max(connections, threads)),
           "-d", f"{max(seconds, 1):g}s", "--timeout", "30s", "-s", script]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(url)
    if args:
        cmd += ["--", *args]
    started = time.time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(cmd, cwd=WRK_DIR, capture_output=True, text=True, check=False)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk: the one child waited for
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stdout}\n{out.stderr}")
    data = json.loads(line.removeprefix("BENCH_JSON "))
    secs = data["duration_us"] / 1e6
    lat = data["latency_us"]
    return WrkResult(requests=data["requests"], seconds=secs,
                     rps=data["requests"] / secs if secs else 0.0,
                     p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000,
                     p99_ms=lat["p99"] / 1000, max_ms=lat["max"] / 1000,
                     errors=data["errors"], started_at=started,
                     statuses=data.get("statuses", {}),
                     cpu_seconds=waited.ru_utime + waited.ru_stime
                     - children.ru_utime - children.ru_stime)
