#!/usr/bin/env bash
# CI-sized benchmark run (seconds): tiny data on SQLite, a few hundred requests per hot path
# through gunicorn and granian, and the sync benchmark with a handful of flags. Fails on any non-2xx.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DATABASE_URL="sqlite:///$work/bench.sqlite3" FMEJIRA_INSTANCE_PATH="$work" FMEJIRA_LOG_LEVEL=WARNING
export FMEJIRA_SECRET_KEY="$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
.venv/bin/python -m bench.generate --scale 0.01 --requests 200 --out "$work/requests"
.venv/bin/python -m bench.run --requests "$work/requests" --servers gunicorn granian --duration 1 --connections 4 --rounds 1
# the same with the hot cache (Redis database 13, emptied first), where Redis answers
if .venv/bin/python -c 'import redis; redis.Redis.from_url("redis://127.0.0.1:6379/13").flushdb()' 2>/dev/null; then
  REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python -m bench.run --requests "$work/requests" \
    --servers gunicorn granian --duration 1 --connections 4 --rounds 1 --no-consumer
fi
.venv/bin/python -m bench.sync --flags 60 --linked 20 --issues 50 --runs 3
