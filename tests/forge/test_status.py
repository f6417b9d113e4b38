"""``flask fmejira status``: each site's door(s), Forge token end and Forge's last call."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from fmejira.extensions import db
from tests.support import make_tenant


def status(app) -> str:
    result = app.test_cli_runner().invoke(args=["fmejira", "status"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_forge_site_shows_its_token_and_last_call(app, forge_site):
    make_tenant("jira:connect-only")
    output = status(app)
    line = next(line for line in output.splitlines() if line.startswith(forge_site.client_key))
    assert re.search(
        r"doors=forge  token_until=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00  "
        r"forge_call=\d{4}-\d\d-\d\dT",
        line,
    ), line
    assert "jira:connect-only  installed" in output
    assert re.search(r"jira:connect-only .* doors=connect  token_until=-  forge_call=-", output)


def test_a_site_with_both_doors_and_a_spent_token(app, forge_site):
    forge_site.client_key = "jira:acme"  # it installed the Connect app too
    forge_site.forge_system_token_expires_at = datetime.now(UTC)
    db.session.commit()
    assert "doors=connect+forge  token_until=spent" in status(app)
