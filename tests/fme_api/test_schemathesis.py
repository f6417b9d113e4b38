"""Property-based testing of the FME-side API against its own OpenAPI document (schemathesis):
no 5xx, and every answer matches what the document promises."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import FME_KEY

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 30


@pytest.mark.slow
def test_fme_side_api_conforms_to_its_openapi_document(app, configured_site, fake_fme):
    app.config["API_RATE_LIMIT"] = "100000/minute"
    fake_fme.add_flag("ws-checkout", "new-checkout")
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    headers = {"Authorization": f"Bearer {FME_KEY}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 3
    statuses = []
    for operation in operations:
        # Half the cases aim at the real flag and issues, so the happy paths are exercised too.
        @given(
            case=operation.as_strategy(),
            real=st.booleans(),
            key=st.sampled_from(["ABC-1", "ABC-2"]),
        )
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case, real, key):
            if real:
                case.path_parameters.update(workspace_id="ws-checkout", flag_name="new-checkout")
                if "issue_key" in case.path_parameters:
                    case.path_parameters["issue_key"] = key
                if isinstance(case.body, dict):
                    case.body["issueKey"] = key
            statuses.append(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

        check()
    assert {200, 201, 204} & set(statuses), statuses  # the happy paths were reached
