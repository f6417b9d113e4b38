"""Configuration from the environment, in one place.

Every setting an operator may change is read here; the rest of the app reads ``app.config``.
Names are part of the contract in DESIGN.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from fmejira.outbound import RetryPolicy


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# The Connect descriptor's key; forge/manifest.yml's app.connect.key must be the same.
DEFAULT_APP_KEY = "harness-fme-for-jira"


def from_environment(instance_path: str, environ=os.environ) -> dict:
    """Settings for one app instance, from ``environ`` with the embedded defaults."""
    default_db = "sqlite:///" + str(Path(instance_path) / "fmejira.sqlite3")
    database_url = environ.get("DATABASE_URL") or default_db
    if database_url.startswith("postgres://"):  # Heroku-style URLs name the old dialect
        database_url = "postgresql://" + database_url.removeprefix("postgres://")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    fme_app_url = environ.get("FMEJIRA_FME_APP_URL", "https://app.split.io").rstrip("/")
    return {
        "APP_BASE_URL": environ.get("APP_BASE_URL", "http://localhost:5000").rstrip("/"),
        "APP_KEY": environ.get("FMEJIRA_APP_KEY", DEFAULT_APP_KEY),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": environ.get("REDIS_URL") or None,
        # The hot read paths' shared cache (fmejira.hot_cache): on when Redis is configured.
        "HOT_CACHE_URL": environ.get("REDIS_URL") or None,
        "HOT_CACHE_SECONDS": int(environ.get("FMEJIRA_HOT_CACHE_SECONDS", "300")),
        # and each process's copy of what it read from it (0: none), in bytes
        "HOT_CACHE_NEAR_BYTES": int(float(environ.get("FMEJIRA_HOT_CACHE_NEAR_MB", "16")) * 2**20),
        "SECRET_KEY_MATERIAL": environ.get("FMEJIRA_SECRET_KEY") or None,
        "FME_API_URL": environ.get(
            "FMEJIRA_FME_API_URL", "https://api.split.io/internal/api/v2"
        ).rstrip("/"),
        "FME_APP_URL": fme_app_url,
        # Where "Create feature flag" sends people; {issue_key} and {summary} are filled in.
        "FME_CREATE_FLAG_URL": environ.get(
            "FMEJIRA_FME_CREATE_FLAG_URL",
            fme_app_url + "/splits/create?jiraIssueKey={issue_key}&description={summary}",
        ),
        "CONNECT_KEYS_URL": environ.get(
            "FMEJIRA_CONNECT_KEYS_URL", "https://connect-install-keys.atlassian.com"
        ).rstrip("/"),
        "CONNECT_STAGING_KEYS_URL": environ.get(
            "FMEJIRA_CONNECT_STAGING_KEYS_URL",
            "https://cs-migrations--cdn.us-west-1.staging.public.atl-paas.net",
        ).rstrip("/"),
        # The Forge Remote door (fmejira.forge): off until the Forge app's id is set.
        "FORGE_APP_ID": environ.get("FMEJIRA_FORGE_APP_ID") or None,
        "FORGE_JWKS_URL": environ.get(
            "FMEJIRA_FORGE_JWKS_URL",
            "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json",
        ),
        # Background calls to FME and Jira (tasks); a waiting person gets outbound.INTERACTIVE.
        "RETRY_POLICY": RetryPolicy(),
        "JWT_LEEWAY_SECONDS": int(environ.get("FMEJIRA_JWT_LEEWAY_SECONDS", "5")),
        "PAGE_TOKEN_TTL_SECONDS": int(environ.get("FMEJIRA_PAGE_TOKEN_TTL_SECONDS", "900")),
        "REFRESH_MINUTES": int(environ.get("FMEJIRA_REFRESH_MINUTES", "5")),
        "STALE_SECONDS": int(environ.get("FMEJIRA_STALE_SECONDS", "600")),
        "API_RATE_LIMIT": environ.get("FMEJIRA_API_RATE_LIMIT", "120/minute"),
        # where the FME-side API's budgets are counted: shared by every machine with Redis
        "RATE_LIMIT_STORAGE_URL": environ.get("REDIS_URL") or "memory://",
        "LOG_LEVEL": environ.get("FMEJIRA_LOG_LEVEL", "INFO"),
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "TRUST_PROXY": _bool(environ.get("FMEJIRA_TRUST_PROXY")),
    }
