"""WSGI entry point: ``flask --app app run``, ``gunicorn app:app``."""

from fmejira import create_app

app = create_app()
