"""Jira Cloud REST: the one client through which the app calls a Jira site."""
