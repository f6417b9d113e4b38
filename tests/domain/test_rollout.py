"""The rollout summary: from an FME definition to what Jira shows."""

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator

from fmejira.domain.rollout import (
    FlagStatus,
    describe_rollout,
    environment_type,
    summarize,
    to_jira_status,
)

SCHEMA = json.loads(
    (Path(__file__).parent.parent / "data" / "jira-featureflags-bulk.schema.json").read_text()
)
STATUS_SCHEMA = Draft202012Validator(
    {"$ref": "#/$defs/FeatureFlagStatus", "$defs": SCHEMA["$defs"]}
)
SAVED_AT = 1_700_000_000_000


def bucket(treatment, size):
    return SimpleNamespace(treatment=treatment, size=size)


def rule(*buckets):
    return SimpleNamespace(buckets=list(buckets))


def definition(**changes):
    """A definition with exactly the attributes FME's parsed Definition has."""
    fields = {
        "name": "new-checkout",
        "environment_id": "env-1",
        "environment_name": "Production",
        "killed": False,
        "treatments": [SimpleNamespace(name="on"), SimpleNamespace(name="off")],
        "default_treatment": "off",
        "traffic_allocation": 100,
        "rules": [],
        "default_rule": [bucket("off", 100)],
        "last_update_time": SAVED_AT,
    }
    return SimpleNamespace(**{**fields, **changes})


def without(name, **changes):
    """A definition lacking an optional attribute altogether."""
    flag = definition(**changes)
    delattr(flag, name)
    return flag


@pytest.mark.parametrize(
    ("flag", "enabled", "default_value", "rollout"),
    [
        pytest.param(definition(), True, "off", {"percentage": 100}, id="default-rule-all-default"),
        pytest.param(
            definition(default_rule=[bucket("on", 100)]),
            True,
            "off",
            {"percentage": 0},
            id="default-rule-all-other",
        ),
        pytest.param(
            definition(default_treatment="on", default_rule=[bucket("on", 50), bucket("off", 50)]),
            True,
            "on",
            {"percentage": 50},
            id="split-50-50",
        ),
        pytest.param(
            definition(
                treatments=[SimpleNamespace(name=n) for n in ("off", "a", "b", "c")],
                default_rule=[bucket("a", 30), bucket("b", 30), bucket("c", 40)],
            ),
            True,
            "off",
            {"percentage": 0},
            id="default-treatment-in-no-bucket",
        ),
        pytest.param(
            definition(killed=True, default_rule=[bucket("on", 100)]),
            False,
            "off",
            {"percentage": 0},
            id="killed-keeps-its-plan",
        ),
        pytest.param(
            definition(traffic_allocation=50),
            True,
            "off",
            {"percentage": 100},
            id="allocation-50-default-rule-serves-default",
        ),
        pytest.param(
            definition(traffic_allocation=50, default_rule=[bucket("on", 100)]),
            True,
            "off",
            {"percentage": 50},
            id="allocation-50-left-out-traffic-gets-default",
        ),
        pytest.param(
            definition(traffic_allocation=20, default_rule=[bucket("on", 50), bucket("off", 50)]),
            True,
            "off",
            {"percentage": 90},
            id="allocation-20-split-50-50",
        ),
        pytest.param(
            definition(traffic_allocation=33, default_rule=[bucket("on", 67), bucket("off", 33)]),
            True,
            "off",
            {"percentage": 77.89},
            id="allocation-fraction-rounded",
        ),
        pytest.param(
            definition(traffic_allocation=0, default_rule=[bucket("on", 100)]),
            True,
            "off",
            {"percentage": 100},
            id="allocation-0",
        ),
        pytest.param(
            definition(rules=[rule(bucket("on", 100))] * 3, default_rule=[bucket("on", 50)]),
            True,
            "off",
            {"rules": 3},
            id="targeting-rules-counted",
        ),
        pytest.param(
            definition(killed=True, rules=[rule(bucket("on", 100))]),
            False,
            "off",
            {"rules": 1},
            id="killed-with-rules",
        ),
        pytest.param(
            definition(default_rule=[]), True, "off", {"percentage": 100}, id="no-default-buckets"
        ),
        pytest.param(
            definition(rules=None, traffic_allocation=None, default_rule=None),
            True,
            "off",
            {"percentage": 100},
            id="optional-fields-none",
        ),
        pytest.param(
            without("traffic_allocation", default_rule=[bucket("on", 25), bucket("off", 75)]),
            True,
            "off",
            {"percentage": 75},
            id="no-traffic-allocation",
        ),
        pytest.param(without("rules"), True, "off", {"percentage": 100}, id="no-rules"),
        pytest.param(without("killed"), True, "off", {"percentage": 100}, id="no-killed"),
        pytest.param(
            definition(default_treatment=""), True, None, {"percentage": 0}, id="no-default"
        ),
    ],
)
def test_summarize(flag, enabled, default_value, rollout):
    status = summarize(flag)

    assert (status.enabled, status.default_value, status.rollout) == (
        enabled,
        default_value,
        rollout,
    )


@pytest.mark.parametrize(
    ("flag", "last_update_time"),
    [(definition(), SAVED_AT), (without("last_update_time"), None)],
)
def test_summarize_keeps_when_the_flag_was_saved(flag, last_update_time):
    assert summarize(flag).last_update_time == last_update_time


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (
            FlagStatus(True, "on", {"percentage": 50}),
            {"enabled": True, "defaultValue": "on", "rollout": {"percentage": 50}},
        ),
        (
            FlagStatus(False, "off", {"rules": 3}),
            {"enabled": False, "defaultValue": "off", "rollout": {"rules": 3}},
        ),
        (
            FlagStatus(True, None, {"percentage": 77.89}),
            {"enabled": True, "rollout": {"percentage": 77.89}},
        ),
        (
            FlagStatus(True, "t" * 300, {"rules": 0}),
            {"enabled": True, "defaultValue": "t" * 255, "rollout": {"rules": 0}},
        ),
    ],
)
def test_to_jira_status_is_a_valid_feature_flag_status(status, expected):
    jira_status = to_jira_status(status)

    assert jira_status == expected
    STATUS_SCHEMA.validate(jira_status)


def test_to_jira_status_of_every_summary_is_valid():
    for flag in (definition(), definition(rules=[rule()]), definition(default_treatment="")):
        STATUS_SCHEMA.validate(to_jira_status(summarize(flag)))


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (FlagStatus(True, "on", {"percentage": 50.0}), "50% on"),
        (FlagStatus(True, "off", {"percentage": 77.89}), "77.89% off"),
        (FlagStatus(True, None, {"percentage": 100.0}), "100%"),
        (FlagStatus(True, "on", {"rules": 3}), "3 rules"),
        (FlagStatus(True, "on", {"rules": 1}), "1 rule"),
        (FlagStatus(False, "off", {"percentage": 100.0}), "Killed"),
        (FlagStatus(False, "off", {"rules": 2}), "Killed"),
    ],
)
def test_describe_rollout(status, text):
    assert describe_rollout(status) == text


@pytest.mark.parametrize(
    ("name", "production", "expected"),
    [
        ("Anything", True, "production"),
        ("Staging", True, "production"),
        ("Production", False, "production"),
        ("prod-eu", False, "production"),
        ("PRD", False, "production"),
        ("Live", False, "production"),
        ("Prod1", False, "production"),
        ("Staging", False, "staging"),
        ("stage-2", False, "staging"),
        ("stg", False, "staging"),
        ("pre-prod", False, "staging"),
        ("Preproduction", False, "staging"),
        ("Test", False, "testing"),
        ("integration_testing", False, "testing"),
        ("QA", False, "testing"),
        ("uat", False, "testing"),
        ("prod-qa", False, "testing"),
        ("Dev", False, "development"),
        ("development", False, "development"),
        ("local", False, "development"),
        ("products", False, "development"),
        ("", False, "development"),
    ],
)
def test_environment_type(name, production, expected):
    assert environment_type(name, production) == expected
