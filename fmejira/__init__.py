"""Harness FME for Jira: the application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask

from fmejira import crypto, settings
from fmejira.errors import register_error_handlers
from fmejira.extensions import db, migrate


def create_app(overrides: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app; ``overrides`` (tests) are applied on top of the environment's settings."""
    app = Flask(
        __name__,
        instance_path=instance_path,
        instance_relative_config=True,
        template_folder=os.path.join(os.path.dirname(__file__), "..", "templates"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(settings.from_environment(app.instance_path))
    if overrides:
        app.config.update(overrides)
    logging.basicConfig(level=app.config["LOG_LEVEL"])

    crypto.init_box(
        crypto.SecretBox(
            crypto.load_or_create_keys(app.config["SECRET_KEY_MATERIAL"], app.instance_path)
        )
    )
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    register_error_handlers(app)
    _register_blueprints(app)

    from fmejira.cli import fmejira_cli

    app.cli.add_command(fmejira_cli)
    return app


def _register_blueprints(app: Flask) -> None:
    from fmejira import health
    from fmejira.connect import descriptor, lifecycle

    app.register_blueprint(health.bp)
    app.register_blueprint(descriptor.bp)
    app.register_blueprint(lifecycle.bp)
