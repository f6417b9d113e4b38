"""Request benchmark: the hot paths under gunicorn and granian, next to a bare Flask floor.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fmejira_bench FMEJIRA_SECRET_KEY=... \\
      .venv/bin/python -m bench.run --requests bench/results [--servers gunicorn granian]

Needs ``wrk`` (Debian) and the data and request files from ``bench.generate``. Every server
gets 2 workers and only ever listens on 127.0.0.1; each load run is bounded by --duration.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("glance_data", "glance_page", "fme_issues")
TARGET_RATIO = 0.60
TARGET_P99_MS = 25.0
TARGET_RSS_MB = 150.0


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(kind: str, target: str, port: int) -> list[str]:
    if kind == "gunicorn":
        return [
            str(ROOT / ".venv/bin/gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ]
    return [
        str(ROOT / ".venv/bin/granian"),
        "--interface",
        "wsgi",
        "--workers",
        "2",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        target,
    ]


def start(kind: str, target: str, probe: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        server_command(kind, target, port),
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=1):
                return process, port
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise SystemExit(f"{kind} did not start serving {target}")


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def _ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(
    port: int, name: str, requests_file: Path | None, duration: int, connections: int
) -> Result:
    url = f"http://127.0.0.1:{port}" + ("/floor" if requests_file is None else "")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "5s"]
    if requests_file is not None:
        command += ["-s", str(ROOT / "bench" / "rotate.lua"), url, "--", str(requests_file)]
    else:
        command.append(url)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = _ms(re.search(r"50%\s+([\d.]+\w+)", output).group(1))
    p99 = _ms(re.search(r"99%\s+([\d.]+\w+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return Result(name, rps, p50, p99, int(errors.group(1)) if errors else 0, total)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pids(master: int) -> list[int]:
    output = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(master)],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return [int(pid) for pid in output.split()]


def queue_consumer_rss() -> float:
    """RSS of a queue consumer after it has imported everything and idled a few seconds."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "fmejira", "worker"],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(6)
    rss = rss_mb(process.pid)
    stop(process)
    return rss


def run_server(
    kind: str, files: Path, duration: int, connections: int
) -> tuple[list[Result], float]:
    floor, floor_port = start(kind, "bench.floor:app", "/floor")
    try:
        wrk(floor_port, "warm-up", None, 2, connections)
        results = [wrk(floor_port, "floor (bare Flask)", None, duration, connections)]
    finally:
        stop(floor)
    app, port = start(kind, "app:app", "/healthz")
    try:
        for name in PATHS:
            wrk(port, "warm-up", files / f"{name}.tsv", 2, connections)
            results.append(wrk(port, name, files / f"{name}.tsv", duration, connections))
        rss = max((rss_mb(pid) for pid in worker_pids(app.pid)), default=0.0)
    finally:
        stop(app)
    return results, rss


def report(kind: str, results: list[Result], rss: float) -> None:
    floor = results[0].rps
    print(f"\n{kind} (2 workers), {results[0].requests} floor requests")
    print(f"{'path':<20}{'req/s':>10}{'ratio':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for r in results:
        ratio = r.rps / floor
        print(
            f"{r.name:<20}{r.rps:>10.0f}{ratio:>8.2f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}"
        )
    print(f"web worker RSS after the run: {rss:.0f} MB")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--servers", nargs="+", default=["gunicorn", "granian"])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    os.environ.setdefault("FMEJIRA_LOG_LEVEL", "WARNING")
    os.environ["FMEJIRA_API_RATE_LIMIT"] = (
        "1000000/minute"  # measure the work, not the limiter's 429s
    )
    best, failures = None, []
    for kind in args.servers:
        results, rss = run_server(kind, args.requests, args.duration, args.connections)
        report(kind, results, rss)
        glance = next(r for r in results if r.name == "glance_data")
        if best is None or glance.rps > best[1]:
            best = (kind, glance.rps)
        ratio = glance.rps / results[0].rps
        failures += (
            [f"{kind}: glance data call at {ratio:.0%} of the floor"]
            if ratio < TARGET_RATIO
            else []
        )
        failures += [
            f"{kind}: {r.name} p99 {r.p99_ms:.1f} ms"
            for r in results[1:]
            if r.p99_ms > TARGET_P99_MS
        ]
        failures += [
            f"{kind}: {r.name} had {r.errors} non-2xx answers" for r in results if r.errors
        ]
        failures += [f"{kind}: web worker RSS {rss:.0f} MB"] if rss > TARGET_RSS_MB else []
    consumer = queue_consumer_rss()
    print(f"\nqueue consumer RSS: {consumer:.0f} MB")
    if consumer > TARGET_RSS_MB:
        failures.append(f"queue consumer RSS {consumer:.0f} MB")
    print(f"faster server for the glance data call: {best[0]} ({best[1]:.0f} req/s)")
    for failure in failures:
        print(f"MISSED: {failure}")
    return 1 if any("non-2xx" in f for f in failures) else 0


if __name__ == "__main__":
    sys.exit(main())
