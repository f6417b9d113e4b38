from tests.pages.fixtures import connect_flags, fme_flags  # noqa: F401  (fixtures)
