"""Request benchmark: the hot paths under gunicorn and granian, next to a bare Flask floor.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fmejira_bench \\
      .venv/bin/python -m bench.run [--requests bench/results] [--servers gunicorn granian]

Needs ``wrk`` (Debian package) and what ``bench.generate`` wrote: the data, the request files
and (unless FMEJIRA_SECRET_KEY is set) the key file in ``<requests>/instance``. For every
server, the floor (``bench/floor.py``, a bare Flask JSON endpoint served the same way) and the
app run side by side, each with 2 workers on 127.0.0.1; ``wrk`` drives one of them at a time
(32 connections, ``--duration`` seconds, after a warm-up) with a different valid token per
request (``bench/rotate.lua``). Each of ``--rounds`` rounds measures every server's floor
(``GET /floor``, wrk's own request) and then, for each hot path, the floor driven with that
path's request file and the path itself; a path's ratio is the median of its ratios to the
floor that took the same requests in the same round (``plain``: to ``GET /floor``), and
servers are compared by their throughput in the same round: on a machine whose speed drifts
within minutes, figures taken minutes apart say little about each other. Before the app runs,
every flag state is marked as just read (what the periodic refresh keeps true in production),
so the glance does not queue refreshes. Then the RSS of a queue consumer.

The machine is shared: before each measurement the runner waits (up to ``--quiet-timeout``)
until other processes use less than ``--quiet-cpu`` of a core, and it reports the CPU other
processes used during each measurement ("other") and the CPU the hypervisor gave to other
machines ("steal"), so a noisy figure can be recognised.

Exit status: 1 when a request failed (non-2xx, socket error) or a server did not start; with
``--strict`` also when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = {
    "glance_data": "glance data  GET /jira/api/issues/{key}/flags",
    "glance_page": "glance page  GET /jira/glance?issueKey=…&jwt=…",
    "fme_issues": "FME side     GET /api/v1/flags/{ws}/{flag}/issues",
}
FLOOR = "floor"


def floor_for(path: str) -> str:
    """The name of the floor measured with ``path``'s requests."""
    return f"{FLOOR}:{path}"


def is_floor(path: str) -> bool:
    return path == FLOOR or path.startswith(FLOOR + ":")


def requests_of(path: str) -> str | None:
    """The hot path whose request file a measurement sends (None: wrk's own ``GET /floor``)."""
    return (path.partition(":")[2] or None) if is_floor(path) else path


TARGET_RATIO = 0.60  # glance data call vs the floor's throughput
TARGET_P99_MS = 25.0
TARGET_RSS_MB = 150.0
CLOCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


@dataclass
class Result:
    server: str
    path: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx/3xx answers and socket errors (including timeouts)
    other_cpu: float  # cores used by processes that are not part of the measurement
    steal: float = 0.0  # cores the hypervisor gave to other machines meanwhile
    round: int = 0


@dataclass
class Summary:
    """One path over all rounds: medians, the worst p99, and the medians of its per-round
    ratios to the floor that took the same requests (``ratio``) and to ``GET /floor``
    (``plain_ratio``)."""

    server: str
    path: str
    rps: float
    ratio: float
    plain_ratio: float
    p50_ms: float
    p99_ms: float
    worst_p99_ms: float
    errors: int
    other_cpu: float
    rounds: int

    @classmethod
    def of(cls, results: list[Result]) -> list[Summary]:
        floors = _floors(results)
        groups: dict[tuple[str, str], list[Result]] = {}
        for r in results:
            groups.setdefault((r.server, r.path), []).append(r)
        return [
            cls(
                server,
                path,
                rps=statistics.median(r.rps for r in mine),
                ratio=statistics.median(r.rps / _matched_floor(floors, r) for r in mine),
                plain_ratio=statistics.median(r.rps / floors[server, FLOOR, r.round] for r in mine),
                p50_ms=statistics.median(r.p50_ms for r in mine),
                p99_ms=statistics.median(r.p99_ms for r in mine),
                worst_p99_ms=max(r.p99_ms for r in mine),
                errors=sum(r.errors for r in mine),
                other_cpu=max(r.other_cpu for r in mine),
                rounds=len(mine),
            )
            for (server, path), mine in groups.items()
        ]


def _floors(results: list[Result]) -> dict[tuple[str, str, int], float]:
    """Every floor's throughput by (server, floor, round)."""
    return {(r.server, r.path, r.round): r.rps for r in results if is_floor(r.path)}


def _matched_floor(floors: dict, r: Result) -> float:
    """The floor ``r`` is compared with: the one that took its requests (itself, for a floor;
    the runner measures each path's floor before the path)."""
    return floors[r.server, r.path if is_floor(r.path) else floor_for(r.path), r.round]


# -- the machine ---------------------------------------------------------------------------------


def _process_times() -> dict[int, tuple[int, int, str]]:
    """pid -> (utime+stime in ticks, process group, command) of every process."""
    times = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        command = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        times[int(entry.name)] = (int(fields[11]) + int(fields[12]), int(fields[2]), command)
    return times


class OtherLoad:
    """CPU used by processes outside the measurement (other people's tests, builds …), in cores.

    Ours: the runner, the server's process group, wrk, PostgreSQL (whose backends serve the
    servers) and Redis (the hot cache); other users of those two count as ours, a known blind
    spot.
    """

    def __init__(self, own_groups: set[int]):
        self.own_groups = own_groups | {os.getpgrp()}
        self.start()

    def _foreign(self, times) -> dict[int, int]:
        return {
            pid: ticks
            for pid, (ticks, group, command) in times.items()
            if group not in self.own_groups and command not in {"wrk", "postgres", "redis-server"}
        }

    def start(self) -> None:
        self.began, self.before = time.monotonic(), self._foreign(_process_times())

    def cores(self) -> float:
        after = self._foreign(_process_times())
        ticks = sum(t - self.before.get(pid, 0) for pid, t in after.items())
        return ticks / CLOCK / max(time.monotonic() - self.began, 1e-3)


def _steal_ticks() -> int:
    """CPU time the hypervisor ran other machines while this one wanted to run (/proc/stat)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return int(fields[8]) if len(fields) > 8 else 0


def wait_quiet(limit_cores: float, timeout: float) -> float:
    """Wait until other processes use less than ``limit_cores``; returns what they used."""
    deadline = time.monotonic() + timeout
    while True:
        load = OtherLoad(set())
        time.sleep(1.0)
        used = load.cores()
        if used < limit_cores or time.monotonic() > deadline:
            return used


# -- servers -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(kind: str, target: str, port: int, granian_threads: int) -> list[str]:
    if kind == "gunicorn":
        return [
            str(ROOT / ".venv/bin/gunicorn"),
            "--workers=2",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
            target,
        ]
    command = [
        str(ROOT / ".venv/bin/granian"),
        "--interface=wsgi",
        "--workers=2",
        "--host=127.0.0.1",
        f"--port={port}",
        "--log-level=warning",
        "--no-access-log",
        f"--blocking-threads={granian_threads}",
    ]
    return [*command, target]


def start(command: list[str], port: int, probe: str, env: dict) -> subprocess.Popen:
    """Start a server and wait until ``probe`` answers 200 (http.client: never a proxy)."""
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            connection.request("GET", probe)
            if connection.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
        finally:
            connection.close()
    stop(process)
    raise RuntimeError(f"{command[0]} did not start serving {command[-1]}")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


def worker_pids(master: int) -> list[int]:
    """The server's worker processes (children of the master, which only supervises)."""
    return [
        pid for pid, (_, group, _) in _process_times().items() if group == master and pid != master
    ]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# -- load ----------------------------------------------------------------------------------------


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(port: int, requests_file: Path | None, duration: int, connections: int) -> dict:
    threads = 2
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    command += ["--timeout", "5s"]
    if requests_file is None:
        command.append(f"http://127.0.0.1:{port}/floor")
    else:
        script = str(ROOT / "bench" / "rotate.lua")
        command += ["-s", script, f"http://127.0.0.1:{port}", "--", str(requests_file)]
        command.append(str(threads))
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),
        "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(int(n) for n in socket_errors.groups()) if socket_errors else 0),
    }


def warm(port: int, requests_file: Path) -> None:
    """Every request of the file once, so the hot cache (with REDIS_URL) holds each answer, as
    it does for the issues people look at again; without it this is only a longer warm-up."""

    def send(line: str) -> None:
        path, _, auth = line.rstrip("\n").partition("\t")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            connection.request("GET", path, headers={"Authorization": auth} if auth else {})
            connection.getresponse().read()
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(send, requests_file.open()))


def measure(
    kind: str, path: str, port: int, group: int, files: Path, args: argparse.Namespace
) -> Result:
    own = requests_of(path)
    requests_file = files / f"{own}.tsv" if own else None
    wait_quiet(args.quiet_cpu, args.quiet_timeout)
    warmed = wrk(port, requests_file, args.warmup, args.connections)
    # then until each worker's near copy has seen (nearly) every request: in one wrk run, for
    # every run starts its rotation at the top of the file again
    if not is_floor(path) and not args.cold:
        lines = sum(1 for _ in requests_file.open())
        short = args.warm_passes * lines - warmed["requests"]
        if short > 0:
            wrk(port, requests_file, min(math.ceil(short / warmed["rps"]), 120), args.connections)
    load, stolen, began = OtherLoad({group}), _steal_ticks(), time.monotonic()
    figures = wrk(port, requests_file, args.duration, args.connections)
    steal = (_steal_ticks() - stolen) / CLOCK / max(time.monotonic() - began, 1e-3)
    return Result(kind, path, other_cpu=load.cores(), steal=steal, **figures)


# -- the run -------------------------------------------------------------------------------------


def environment(files: Path) -> dict:
    """What the servers and the consumer run with: local URLs only, no rate limit in the way."""
    env = os.environ.copy()
    env.setdefault("FMEJIRA_INSTANCE_PATH", str(files / "instance"))
    env.update(
        {
            "APP_BASE_URL": "http://127.0.0.1",  # the tokens' qsh assume no base path
            "FMEJIRA_FME_API_URL": "http://127.0.0.1:9",  # nothing listens there
            "FMEJIRA_CONNECT_KEYS_URL": "http://127.0.0.1:9",
            "FMEJIRA_API_RATE_LIMIT": "1000000/minute",  # measure the work, not the 429s
            "FMEJIRA_REFRESH_MINUTES": "100000",  # the consumer must not refresh 1,000 sites
            # and states must not turn stale during a run (the periodic refresh's job), nor
            # cached answers expire: a figure measures the cached path, not a mix with misses
            # (in production an answer is computed anew every 300 s at least; what that
            # costs is the database path's: bench.cost, or a run without REDIS_URL)
            "FMEJIRA_STALE_SECONDS": "86400",
            "FMEJIRA_HOT_CACHE_SECONDS": "86400",
            "FMEJIRA_LOG_LEVEL": env.get("FMEJIRA_LOG_LEVEL", "WARNING"),
        }
    )
    return env


def mark_states_fresh(env: dict) -> None:
    """Every flag state read just now, as the periodic refresh keeps it in production."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from fmejira import create_app
    from fmejira.extensions import db
    from fmejira.hot_cache import hot_cache
    from fmejira.models import FlagState, Tenant
    from fmejira.models.tenant import utcnow

    app = create_app()
    with app.app_context():
        db.session.execute(sa.update(FlagState).values(read_at=utcnow()))
        db.session.commit()
        # as a refresh would, it makes what the hot cache holds stale (a bulk statement is not
        # seen by the ORM's change tracking)
        hot_cache().bump(db.session.scalars(sa.select(Tenant.client_key)))
        db.engine.dispose()


def run_servers(files: Path, env: dict, args) -> tuple[list[Result], dict[str, float]]:
    """Every server's floor and app side by side; each of ``--rounds`` rounds measures, for
    each server in turn, its floor and then each path, so a drift in the machine's speed
    touches every server and path alike. Returns the figures and each app's worker RSS."""
    mark_states_fresh(env)
    servers = {}
    try:
        for kind in args.servers:
            for name, target, probe in (
                (FLOOR, "bench.floor:app", "/floor"),
                ("app", args.app, "/healthz"),
            ):
                port = free_port()
                command = server_command(kind, target, port, args.granian_threads)
                servers[kind, name] = (start(command, port, probe, env), port)
        if not args.cold:
            for kind in args.servers:
                for path in args.paths:
                    warm(servers[kind, "app"][1], files / f"{path}.tsv")
        results = []
        for round_ in range(args.rounds):
            for kind in args.servers:
                # each path right after its floor: a drift in speed touches both alike
                for path in [FLOOR, *(p for own in args.paths for p in (floor_for(own), own))]:
                    process, port = servers[kind, FLOOR if is_floor(path) else "app"]
                    result = measure(kind, path, port, process.pid, files, args)
                    result.round = round_
                    results.append(result)
                    print(_row(result, results), flush=True)
        rss = {
            f"{kind} web worker": max(
                (rss_mb(pid) for pid in worker_pids(servers[kind, "app"][0].pid)), default=0.0
            )
            for kind in args.servers
        }
    finally:
        for process, _port in servers.values():
            stop(process)
    return results, rss


def queue_consumer_rss(env: dict, seconds: float = 8.0) -> float:
    """RSS of a queue consumer (``flask fmejira worker``) once it has started and polled."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "fmejira", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        time.sleep(seconds)
        return rss_mb(process.pid)
    finally:
        stop(process)


# -- report --------------------------------------------------------------------------------------

HEADER = f"{'server':<9}{'round':>5}  {'path':<52}{'req/s':>8}{'ratio':>7}{'plain':>7}"
HEADER += f"{'p50 ms':>8}{'p99 ms':>8}{'errors':>7}{'other':>7}{'steal':>7}"
SUMMARY = f"{'server':<9}{'path':<52}{'req/s':>8}{'ratio':>7}{'plain':>7}{'p50 ms':>8}"
SUMMARY += f"{'p99 ms':>8}{'worst':>7}{'errors':>7}"


def _label(path: str) -> str:
    if path == FLOOR:
        return "floor        bare Flask JSON endpoint"
    if is_floor(path):
        return f"floor        with the {requests_of(path)} requests"
    return PATHS[path]


def _row(r: Result, results: list[Result]) -> str:
    floors = _floors(results)
    ratio, plain = r.rps / _matched_floor(floors, r), r.rps / floors[r.server, FLOOR, r.round]
    return (
        f"{r.server:<9}{r.round + 1:>5}  {_label(r.path):<52}{r.rps:>8.0f}{ratio:>7.2f}"
        f"{plain:>7.2f}{r.p50_ms:>8.1f}{r.p99_ms:>8.1f}{r.errors:>7}{r.other_cpu:>7.2f}"
        f"{r.steal:>7.2f}"
    )


def _summary_row(s: Summary) -> str:
    return (
        f"{s.server:<9}{_label(s.path):<52}{s.rps:>8.0f}{s.ratio:>7.2f}{s.plain_ratio:>7.2f}"
        f"{s.p50_ms:>8.1f}{s.p99_ms:>8.1f}{s.worst_p99_ms:>7.1f}{s.errors:>7}"
    )


def server_comparison(results: list[Result], servers: list[str], paths: list[str]) -> list[str]:
    """Each server's throughput on each path against the first server's in the same round,
    and the server that serves the app faster (by the first path: the glance data call)."""
    by = {(r.server, r.path, r.round): r.rps for r in results}
    base, sentences, speedups = servers[0], [], {}
    for other in servers[1:]:
        for path in paths:
            ratios = [
                by[other, path, round_] / by[base, path, round_]
                for (server, p, round_) in by
                if server == base and p == path and (other, path, round_) in by
            ]
            speedups[other, path] = statistics.median(ratios)
            per_round = ", ".join(f"{ratio:.2f}" for ratio in ratios)
            sentences.append(
                f"{other} / {base} throughput, {path}: {speedups[other, path]:.2f}x ({per_round})"
            )
    faster = max(servers, key=lambda kind: speedups.get((kind, paths[0]), 1.0))
    return [*sentences, f"faster for the app: {faster}"]


def targets(summaries: list[Summary], rss: dict[str, float]) -> list[str]:
    """What is missed (on the medians over the rounds), as sentences."""
    missed = []
    for s in summaries:
        if s.path == "glance_data" and s.ratio < TARGET_RATIO:
            missed.append(
                f"{s.server}: glance data at {s.ratio:.0%} of the floor (target {TARGET_RATIO:.0%})"
            )
        if not is_floor(s.path) and s.p99_ms > TARGET_P99_MS:
            missed.append(f"{s.server}: {s.path} p99 {s.p99_ms:.1f} ms (target {TARGET_P99_MS})")
    missed += [
        f"{who} RSS {mb:.0f} MB (target {TARGET_RSS_MB:.0f})"
        for who, mb in rss.items()
        if mb > TARGET_RSS_MB
    ]
    return missed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--servers", nargs="+", default=["gunicorn", "granian"])
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS))
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="turns of the floor and the paths")
    parser.add_argument("--warmup", type=int, default=2, help="seconds before each one")
    parser.add_argument(
        "--warm-passes",
        type=float,
        default=5,
        help="a path's warm-up goes on until it sent every request this many times",
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--app", default="app:app", help="the WSGI app to measure")
    parser.add_argument(
        "--granian-threads",
        type=int,
        default=1,
        help="granian --blocking-threads (1: one Python thread per worker, as it is served)",
    )
    parser.add_argument("--quiet-cpu", type=float, default=0.15, help="cores others may use")
    parser.add_argument("--quiet-timeout", type=float, default=120, help="seconds to wait")
    parser.add_argument("--no-consumer", action="store_true", help="skip the consumer's RSS")
    parser.add_argument(
        "--cold", action="store_true", help="no pass over the requests before measuring"
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--strict", action="store_true", help="fail on a missed target")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    env = environment(args.requests)
    cache = "on (REDIS_URL)" if env.get("REDIS_URL") else "off (no REDIS_URL)"
    print(
        f"{CORES} cores; {args.connections} connections, {args.duration} s per figure, "
        f"{args.rounds} rounds; "
        f"hot cache {cache}, {'cold' if args.cold else 'every request sent once before'}"
    )
    print(HEADER, flush=True)
    results, rss = [], {}
    try:
        results, rss = run_servers(args.requests, env, args)
        if not args.no_consumer:
            rss["queue consumer"] = queue_consumer_rss(env)
    except (RuntimeError, subprocess.SubprocessError) as exc:
        print(f"FAILED: {exc}")
        return 1
    summaries = Summary.of(results)
    print(f"\nmedians over {args.rounds} rounds (ratio: median of the per-round ratios)")
    print(SUMMARY)
    for summary in summaries:
        print(_summary_row(summary))
    print("RSS: " + ", ".join(f"{who} {mb:.0f} MB" for who, mb in rss.items()))
    if len(args.servers) > 1:
        for sentence in server_comparison(results, args.servers, args.paths):
            print(sentence)
    missed = targets(summaries, rss)
    for sentence in missed:
        print(f"MISSED: {sentence}")
    noisy = [r for r in results if r.other_cpu > args.quiet_cpu]
    if noisy:
        print(f"NOISY: other processes used > {args.quiet_cpu} cores during {len(noisy)} figures")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "results": [asdict(r) for r in results],
                    "summaries": [asdict(s) for s in summaries],
                    "rss_mb": rss,
                },
                indent=2,
            )
        )
    failed = [r for r in results if r.errors]
    for r in failed:
        print(f"FAILED: {r.server} {r.path}: {r.errors} failed requests of {r.requests}")
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
