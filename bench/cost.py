"""What one hot-path request costs, in process: CPU of the app and of PostgreSQL, statements.

    DATABASE_URL=... .venv/bin/python -m bench.cost [--requests bench/results] [--count 1000]

No server and no load generator: the requests of ``bench.generate`` go one at a time through
Flask's test client, so the figures hardly move when other processes share the machine (CPU
time is counted per process), which makes this the tool to compare two versions of the code.
"CPU ms" is the app's; "db CPU ms" is the PostgreSQL backend's serving it (0 on SQLite).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import CLOCK, PATHS, environment  # noqa: E402


def _ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def measure(app, lines: list[tuple[str, ...]], warmup: int) -> dict:
    """Per request: wall and CPU milliseconds of the app, CPU of its database backends (the
    connections are made anew after the warm-up, so each one is seen from its start), SQL
    statements; and how many requests did not answer 200."""
    import sqlalchemy as sa

    from fmejira.extensions import db

    client = app.test_client()

    def get(url, auth=""):
        return client.get(url, headers={"Authorization": auth} if auth else {})

    for line in lines[:warmup]:
        get(*line)
    backends: dict[int, int] = {}  # PostgreSQL backend pid -> its CPU ticks when it started
    statements = []

    def connected(dbapi_connection, _record):
        pid = getattr(getattr(dbapi_connection, "info", None), "backend_pid", None)
        if pid:
            backends[pid] = _ticks(pid)

    def executed(*_):
        statements.append(1)

    with app.app_context():
        engine = db.engine
    engine.dispose()
    sa.event.listen(engine, "connect", connected)
    sa.event.listen(engine, "before_cursor_execute", executed)
    measured = lines[warmup:]
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        failures = sum(get(*line).status_code != 200 for line in measured)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        db_ticks = sum(_ticks(pid) - ticks for pid, ticks in backends.items())
    finally:
        sa.event.remove(engine, "connect", connected)
        sa.event.remove(engine, "before_cursor_execute", executed)
    n = len(measured)
    return {
        "wall_ms": wall / n * 1000,
        "cpu_ms": cpu / n * 1000,
        "db_cpu_ms": db_ticks / CLOCK / n * 1000,
        "statements": len(statements) / n,
        "failures": failures,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS))
    parser.add_argument("--count", type=int, default=1000, help="measured requests per path")
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    os.environ.update(environment(args.requests))
    from fmejira import create_app

    app = create_app()
    print(f"{'path':<52}{'wall ms':>9}{'CPU ms':>8}{'db CPU ms':>10}{'statements':>11}")
    failed = False
    for path in args.paths:
        lines = [
            tuple(line.rstrip("\n").split("\t", 1))
            for line in (args.requests / f"{path}.tsv").open()
        ][: args.warmup + args.count]
        r = measure(app, lines, args.warmup)
        failed |= bool(r["failures"])
        print(
            f"{PATHS[path]:<52}{r['wall_ms']:>9.2f}{r['cpu_ms']:>8.2f}{r['db_cpu_ms']:>10.2f}"
            f"{r['statements']:>11.1f}" + (f"  {r['failures']} FAILED" if r["failures"] else "")
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
