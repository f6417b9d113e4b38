"""The Forge Remote door: Forge's calls to this service, and the app's calls to Jira with the
system token Forge gives it (DESIGN.md "Connect today, Forge next")."""
