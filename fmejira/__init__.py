"""Harness FME for Jira: the application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from fmejira import crypto, settings
from fmejira.errors import register_error_handlers
from fmejira.extensions import api, db
from fmejira.fme_api.rate_limit import init_rate_limit
from fmejira.hot_cache import init_hot_cache, track_changes
from fmejira.queue import init_queue
from fmejira.schema import init_migration_commands


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app; ``overrides`` (tests) are applied on top of the environment's settings."""
    instance_path = instance_path or os.environ.get("FMEJIRA_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(__file__), "..", "templates"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if overrides:
        app.config.update(overrides)
    logging.basicConfig(level=app.config["LOG_LEVEL"])
    if app.config["TRUST_PROXY"]:  # one proxy in front: its X-Forwarded-* are the client's
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

    crypto.init_box(
        crypto.SecretBox(
            crypto.load_or_create_keys(app.config["SECRET_KEY_MATERIAL"], app.instance_path)
        )
    )
    db.init_app(app)
    init_hot_cache(app)
    track_changes(db.session)
    init_migration_commands(app)
    register_error_handlers(app)
    _init_api(app)
    init_queue(app)
    _register_blueprints(app)

    from fmejira.cli import fmejira_cli

    app.cli.add_command(fmejira_cli)
    return app


def _init_api(app: Flask) -> None:
    """flask-smorest serves the FME-side API's OpenAPI document at /api/openapi.json."""
    app.config.setdefault("API_TITLE", "Harness FME for Jira: FME-side API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app)
    init_rate_limit(app)
    api.spec.components.security_scheme(
        "fmeApiKey", {"type": "http", "scheme": "bearer", "description": "FME Admin API key"}
    )


def _register_blueprints(app: Flask) -> None:
    from fmejira import health
    from fmejira.connect import descriptor, lifecycle
    from fmejira.fme_api.routes import blp as fme_api
    from fmejira.forge import lifecycle as forge_lifecycle
    from fmejira.jira_api import bp as jira_api
    from fmejira.pages import bp as pages
    from fmejira.webhooks import fme as fme_webhooks
    from fmejira.webhooks import jira as jira_webhooks

    app.register_blueprint(health.bp)
    app.register_blueprint(descriptor.bp)
    app.register_blueprint(lifecycle.bp)
    app.register_blueprint(forge_lifecycle.bp)
    app.register_blueprint(jira_api)
    app.register_blueprint(pages)
    app.register_blueprint(fme_webhooks.bp)
    app.register_blueprint(jira_webhooks.bp)
    api.register_blueprint(fme_api)
