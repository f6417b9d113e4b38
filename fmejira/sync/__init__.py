"""Keeping Jira true to FME: flag state refreshes, pushes to the Feature Flags API and the
issue glance, all as idempotent tasks on the queue."""
