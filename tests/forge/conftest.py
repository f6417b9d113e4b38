from tests.forge.fixtures import forge_app, forge_jira, forge_site, keys  # noqa: F401
from tests.jira_api.test_links import fme_flags  # noqa: F401
