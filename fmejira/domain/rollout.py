"""What an FME flag definition means for the people reading Jira: on or off, and its rollout.

Pure functions. ``summarize`` reads an FME definition by attribute name only (``killed``,
``default_treatment``, ``traffic_allocation``, ``rules``, ``default_rule`` with ``treatment`` and
``size`` per bucket, ``last_update_time``), so it works on any object shaped like one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

JIRA_TEXT_LIMIT = 255


@dataclass(frozen=True)
class FlagStatus:
    """A flag's state in one environment.

    ``rollout`` has exactly one key: ``{"percentage": p}`` when the flag serves only its default
    rule, else ``{"rules": n}``. It describes the configured plan even while the flag is killed;
    ``enabled`` says whether that plan is live.
    """

    enabled: bool
    default_value: str | None
    rollout: dict[str, float | int]
    last_update_time: int | None = None


def summarize(definition: Any) -> FlagStatus:
    """The status Jira shows for an FME definition (PROTOCOLS.md §3, "Rollout details").

    With targeting rules, the rollout is their count. With only the default rule, it is the
    percentage of all traffic served the default treatment. FME serves the default treatment
    to the traffic left out by a traffic allocation below 100 too, so that share counts in full:
    ``(100 - allocation) + allocation * share_of_default_rule / 100``. Counting only the default
    rule's own share (``share * allocation / 100``) would report a flag whose default rule and
    default treatment are both "off" as mostly not "off", although nobody gets anything else.
    A default rule without buckets serves the default treatment to everyone.
    """
    rules = getattr(definition, "rules", None) or []
    default_treatment = definition.default_treatment or None
    if rules:
        rollout: dict[str, float | int] = {"rules": len(rules)}
    else:
        rollout = {"percentage": _default_treatment_percentage(definition, default_treatment)}
    return FlagStatus(
        enabled=not getattr(definition, "killed", False),
        default_value=default_treatment,
        rollout=rollout,
        last_update_time=getattr(definition, "last_update_time", None),
    )


def _default_treatment_percentage(definition: Any, default_treatment: str | None) -> float:
    allocation = getattr(definition, "traffic_allocation", None)
    allocation = 100 if allocation is None else min(max(allocation, 0), 100)
    buckets = definition.default_rule or []
    if buckets:
        rule_share = sum(b.size for b in buckets if b.treatment == default_treatment)
    else:
        rule_share = 100
    percentage = (100 - allocation) + allocation * min(max(rule_share, 0), 100) / 100
    return round(percentage, 2)


def to_jira_status(status: FlagStatus) -> dict[str, Any]:
    """The Feature Flags API ``status`` object (``enabled``, ``defaultValue``, ``rollout``)."""
    jira_status: dict[str, Any] = {"enabled": status.enabled, "rollout": dict(status.rollout)}
    if status.default_value is not None:
        jira_status["defaultValue"] = status.default_value[:JIRA_TEXT_LIMIT]
    return jira_status


def describe_rollout(status: FlagStatus) -> str:
    """A few words for people: "50% on", "3 rules", "Killed"."""
    if not status.enabled:
        return "Killed"
    if "rules" in status.rollout:
        count = status.rollout["rules"]
        return f"{count} rule" if count == 1 else f"{count} rules"
    percentage = f"{status.rollout['percentage']:g}%"
    return f"{percentage} {status.default_value}" if status.default_value else percentage


_STAGING_WORDS = frozenset({"stg", "pre", "preprod", "preproduction"})
_TESTING_WORDS = frozenset({"qa", "uat"})
_PRODUCTION_WORDS = frozenset({"prod", "prd", "production", "live"})


def environment_type(name: str, production: bool) -> str:
    """The Feature Flags API environment type of an FME environment.

    FME's own production mark wins. Otherwise the name's words decide, checked in the order
    staging, testing, production so that "pre-prod" is staging and "prod-qa" is testing;
    anything else is development.
    """
    if production:
        return "production"
    words = re.findall(r"[a-z]+", name.lower())
    if any(w.startswith("stag") or w in _STAGING_WORDS for w in words):
        return "staging"
    if any(w.startswith("test") or w in _TESTING_WORDS for w in words):
        return "testing"
    if any(w in _PRODUCTION_WORDS for w in words):
        return "production"
    return "development"
