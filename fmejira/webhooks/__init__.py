"""Incoming change notifications: FME's audit-log webhook and Jira's issue webhooks."""
