"""The Connect door: turns a request from Jira into a verified context, signs what goes back.

Nothing outside this package parses a JWT from Jira.
"""
