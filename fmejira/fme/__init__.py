"""The Harness FME (Split) Admin API: a client and the typed shapes it returns."""
