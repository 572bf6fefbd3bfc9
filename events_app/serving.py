"""Run an ASGI app under uvicorn in N worker processes that share the load evenly.

Why not uvicorn's own `--workers`: its workers accept from one shared listening socket, and
whichever worker happens to be waiting wins each new connection. Under keep-alive traffic a
few busy workers end up holding most connections (29 of 32 on one worker out of two was
measured) while the others idle. Here each worker has its own listening socket bound with
SO_REUSEPORT to the same address, and the kernel spreads new connections over the sockets by
a hash of the connection's addresses, so every worker gets its share.

The supervisor (this process) binds the sockets itself and keeps them open: a port already in
use fails at once, as with uvicorn, and connections that arrive while a worker is being
replaced wait in that worker's socket for its successor instead of being refused. It forwards
SIGTERM/SIGINT to the workers for a graceful stop, replaces a worker that dies, and on SIGHUP
replaces every worker by a fresh one, one at a time (new code; the port keeps listening), as
uvicorn's supervisor does. A worker that dies before it ever served (the app does not
import, its start-up fails) stops the whole server, since a replacement would fail the same
way.

Where SO_REUSEPORT is missing, and for one worker or --reload, it is plain `uvicorn.run`.
Linux only lets sockets of the same user join a SO_REUSEPORT group, so no other account can
bind the port alongside us.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

logger = logging.getLogger("uvicorn.error")

STARTUP_FAILURE = 3  # uvicorn's exit status when an app cannot start
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
ALL_SERVING = "All %d workers are serving."  # logged once, when the last one has started
_POLL_SECONDS = 0.2  # how often the supervisor notices a signal when nothing else happens
_spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as uvicorn's workers


def reuseport_available() -> bool:
    """Whether this system lets several sockets listen on one port (Linux >= 3.9, BSDs)."""
    if not hasattr(socket, "SO_REUSEPORT"):
        return False
    with socket.socket() as probe:
        try:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        except OSError:  # the constant exists but the kernel refuses it
            return False
    return True


def plan(workers: int, reload: bool, reuseport: bool) -> str:
    """How to serve: 'single' (one process), 'reuseport' (our supervisor) or 'uvicorn'
    (uvicorn's shared-socket workers, where SO_REUSEPORT is missing)."""
    if reload or workers <= 1:
        return "single"
    return "reuseport" if reuseport else "uvicorn"


def serve(app: str, *, host: str, port: int, workers: int, reload: bool = False,
          **uvicorn_options: Any) -> int:
    """Serve `app` (an import string) on host:port; returns the exit status. uvicorn_options
    are uvicorn.Config's keyword arguments (log_config, proxy_headers, access_log, ...) and
    apply to every worker alike."""
    import uvicorn

    how = plan(workers, reload, reuseport_available())
    if how != "reuseport":
        uvicorn.run(app, host=host, port=port, reload=reload,
                    workers=None if how == "single" else workers, **uvicorn_options)
        return 0
    options = {"app": app, "host": host, "port": port, **uvicorn_options}
    # The workers configure logging from the same options; the supervisor logs through it too.
    uvicorn.Config(**options)
    # A plain bind first: SO_REUSEPORT alone would let a second server of ours quietly
    # share a port already in use rather than fail.
    _bind(host, port, reuseport=False).close()
    sockets = [_bind(host, port, reuseport=True)]
    port = sockets[0].getsockname()[1]  # port 0: the one the system chose, for every worker
    sockets += [_bind(host, port, reuseport=True) for _ in range(workers - 1)]
    for sock in sockets:
        # Listening now, in the supervisor, is what lets connections queue during a restart.
        sock.listen(int(options.get("backlog", 2048)))
    return Supervisor(options, sockets).run()


def _bind(host: str, port: int, *, reuseport: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        logger.error("Cannot listen on %s:%d: %s", host, port, exc)
        sys.exit(STARTUP_FAILURE)
    return sock


# --- the worker process ------------------------------------------------------------------------

def _worker_main(options: dict[str, Any], sock: socket.socket, line: Connection) -> None:
    """Entry point of a worker: serve on its own socket; tell the supervisor once it serves;
    stop gracefully if the supervisor disappears (its end of `line` closes)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:  # said before the first request runs, so a worker that served
                line.send("ready")  # and then died is never taken for one that could not start

    server = Server(uvicorn.Config(**options))
    # Ctrl+C reaches the workers too (one process group): uvicorn handles it while it serves,
    # then raises the signal again for a default handler, which would print a worker's
    # KeyboardInterrupt traceback. The supervisor stops the workers either way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_stop_when_orphaned, args=(server, line), daemon=True).start()
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


def _stop_when_orphaned(server: Any, line: Connection) -> None:
    with contextlib.suppress(EOFError, OSError):
        line.recv()  # nothing is ever sent this way: returns (EOFError) when the supervisor dies
    if not server.should_exit:
        os.kill(os.getpid(), signal.SIGTERM)  # as if the supervisor had stopped us


# --- the supervisor ----------------------------------------------------------------------------

@dataclass
class Worker:
    """One worker process, the socket it serves and the supervisor's end of its line."""

    sock: socket.socket
    process: Any = None
    line: Connection | None = None
    ready: bool = False

    def start(self, options: dict[str, Any]) -> None:
        self.line, child_end = _spawn.Pipe()
        self.process = _spawn.Process(target=_worker_main, args=(options, self.sock, child_end),
                                      name="events-app worker")
        self.process.start()
        child_end.close()  # the worker has its own copy now
        self.ready = False

    def close_line(self) -> None:
        if self.line is not None:
            self.line.close()
            self.line = None


@dataclass
class Supervisor:
    options: dict[str, Any]
    sockets: list[socket.socket]
    workers: list[Worker] = field(default_factory=list)
    signals: list[int] = field(default_factory=list)  # stop signals received
    restarts: list[int] = field(default_factory=list)  # SIGHUPs received, not yet acted on

    def run(self) -> int:
        # Only note them: the loop acts on them (a handler must not take locks or fork).
        for sig in STOP_SIGNALS:
            signal.signal(sig, lambda signum, frame: self.signals.append(signum))
        signal.signal(signal.SIGHUP, lambda signum, frame: self.restarts.append(signum))
        host, port = self.options["host"], self.sockets[0].getsockname()[1]
        logger.info("Serving on http://%s:%d with %d workers, one SO_REUSEPORT socket each "
                    "(supervisor %d)", host, port, len(self.sockets), os.getpid())
        self.workers = [Worker(sock) for sock in self.sockets]
        for worker in self.workers:
            worker.start(self.options)
        status = self._watch()
        self._stop_all()
        for sock in self.sockets:
            sock.close()
        return status

    def _watch(self) -> int:
        """Until a stop signal: note workers that start serving, replace those that die."""
        announced = False
        while not self.signals:
            waitables = [w.process.sentinel for w in self.workers]
            waitables += [w.line for w in self.workers if w.line is not None and not w.ready]
            wait(waitables, timeout=_POLL_SECONDS)
            for worker in self.workers:
                self._note_ready(worker)
                if worker.process.is_alive() or self.signals:
                    continue
                worker.process.join()
                worker.close_line()
                if not worker.ready:
                    logger.error("Worker %d exited (status %s) before it served; stopping.",
                                 worker.process.pid, worker.process.exitcode)
                    return STARTUP_FAILURE
                logger.warning("Worker %d died (status %s); starting another.",
                               worker.process.pid, worker.process.exitcode)
                worker.start(self.options)
            if not announced and all(w.ready for w in self.workers):
                announced = True  # what the benchmark waits for before its first request
                logger.info(ALL_SERVING, len(self.workers))
            if self.restarts and not self.signals:
                self.restarts.clear()
                self._restart_all()
        logger.info("Received %s; stopping the workers.", signal.Signals(self.signals[0]).name)
        return 0

    @staticmethod
    def _note_ready(worker: Worker) -> None:
        if worker.ready or worker.line is None:
            return
        try:
            if worker.line.poll():
                worker.ready = worker.line.recv() == "ready"
        except (EOFError, OSError):
            pass  # it died: the sentinel tells

    def _restart_all(self, timeout: float = 60) -> None:
        """SIGHUP: replace every worker by a fresh process (new code, settings read again),
        one at a time. The new one serves on the old one's socket before the old one stops
        gracefully, so the port never stops listening (uvicorn's graceful stop still closes
        connections the old one had accepted but not yet read a request from). A
        replacement that does not start is stopped and the remaining old workers kept."""
        logger.info("Received SIGHUP; replacing the workers one at a time.")
        for index, old in enumerate(self.workers):
            new = Worker(old.sock)
            new.start(self.options)
            deadline = time.monotonic() + timeout
            while not new.ready:
                if self.signals or not new.process.is_alive() or time.monotonic() > deadline:
                    self._stop_all([new], grace=0)
                    logger.error("A replacement worker did not start; keeping the others.")
                    return
                wait([new.process.sentinel, *([new.line] if new.line else [])], _POLL_SECONDS)
                self._note_ready(new)
            self.workers[index] = new
            self._stop_all([old])

    def _stop_all(self, workers: list[Worker] | None = None, grace: float = 30) -> None:
        """SIGTERM to the workers (all unless told; uvicorn finishes the requests in flight),
        then wait; a second stop signal, or a worker still there after `grace` seconds, is
        killed."""
        workers = self.workers if workers is None else workers
        seen = len(self.signals)
        for worker in workers:
            if worker.process.is_alive():
                os.kill(worker.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for worker in workers:
            while worker.process.is_alive():
                if len(self.signals) > seen or time.monotonic() > deadline:
                    worker.process.kill()
                worker.process.join(_POLL_SECONDS)
            worker.close_line()


# --- `python -m events_app.serving APP`: the benchmark serves its apps with this ----------------

def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m events_app.serving", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("app", help="import string, e.g. events_app.web.app:app")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--log-level", default="info")
    p.add_argument("--no-access-log", dest="access_log", action="store_false")
    p.add_argument("--forwarded-allow-ips", default=None)
    args = p.parse_args(argv)
    return serve(args.app, host=args.host, port=args.port, workers=args.workers,
                 log_level=args.log_level, access_log=args.access_log, proxy_headers=True,
                 forwarded_allow_ips=args.forwarded_allow_ips)


if __name__ == "__main__":
    sys.exit(main())
