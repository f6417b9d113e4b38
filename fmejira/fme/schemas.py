"""The FME Admin API's JSON, loaded into small frozen dataclasses.

Only what the app cannot work without is required (a definition's ``name``, ``treatments``,
``defaultTreatment`` and ``defaultRule``; ids and names elsewhere). Everything else is optional
and unknown fields are ignored, so FME adding or dropping a field does not break a refresh. A
payload the app cannot read is an :class:`UnexpectedResponse`, never a marshmallow error.
"""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load

from fmejira.outbound import RemoteError

SERVICE = "FME"


class UnexpectedResponse(RemoteError):
    """FME answered with something the app cannot read (not JSON, or not the expected shape)."""


@dataclass(frozen=True)
class Workspace:
    """An FME project (the Admin API calls it a workspace)."""

    id: str
    name: str


@dataclass(frozen=True)
class Environment:
    id: str
    name: str
    production: bool = False


@dataclass(frozen=True)
class Flag:
    """A feature flag ("split") as listed in a workspace, independent of any environment."""

    id: str | None
    name: str
    description: str | None = None
    traffic_type: str | None = None
    tags: tuple[str, ...] = ()
    rollout_status: str | None = None
    creation_time: int | None = None


@dataclass(frozen=True)
class Bucket:
    """A share (``size``, in percent) of a rule's traffic served ``treatment``."""

    treatment: str
    size: int


@dataclass(frozen=True)
class Rule:
    """A targeting rule; only its buckets matter to the app, not its matchers."""

    buckets: tuple[Bucket, ...] = ()


@dataclass(frozen=True)
class Treatment:
    name: str


@dataclass(frozen=True)
class Definition:
    """A flag's configuration in one environment. Times are epoch milliseconds."""

    name: str
    treatments: tuple[Treatment, ...]
    default_treatment: str
    default_rule: tuple[Bucket, ...]
    environment_id: str | None = None
    environment_name: str | None = None
    killed: bool = False
    traffic_allocation: int = 100
    rules: tuple[Rule, ...] = ()
    last_update_time: int | None = None
    creation_time: int | None = None


class _Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


class _Reference(_Lenient):
    """``{id, name}`` of something a payload points to (environment, traffic type, status)."""

    id = fields.String(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True)


class WorkspaceSchema(_Lenient):
    id = fields.String(required=True)
    name = fields.String(required=True)

    @post_load
    def make(self, data, **_):
        return Workspace(id=data["id"], name=data["name"])


class EnvironmentSchema(_Lenient):
    id = fields.String(required=True)
    name = fields.String(required=True)
    production = fields.Boolean(load_default=False, allow_none=True)

    @post_load
    def make(self, data, **_):
        return Environment(id=data["id"], name=data["name"], production=bool(data["production"]))


class _TagSchema(_Lenient):
    name = fields.String(required=True)


class FlagSchema(_Lenient):
    id = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True)
    description = fields.String(load_default=None, allow_none=True)
    trafficType = fields.Nested(_Reference, load_default=None, allow_none=True)
    tags = fields.List(fields.Nested(_TagSchema), load_default=None, allow_none=True)
    rolloutStatus = fields.Nested(_Reference, load_default=None, allow_none=True)
    creationTime = fields.Integer(load_default=None, allow_none=True)

    @post_load
    def make(self, data, **_):
        return Flag(
            id=data["id"],
            name=data["name"],
            description=data["description"],
            traffic_type=(data["trafficType"] or {}).get("name"),
            tags=tuple(tag["name"] for tag in data["tags"] or ()),
            rollout_status=(data["rolloutStatus"] or {}).get("name"),
            creation_time=data["creationTime"],
        )


class _BucketSchema(_Lenient):
    treatment = fields.String(required=True)
    size = fields.Integer(load_default=0)

    @post_load
    def make(self, data, **_):
        return Bucket(treatment=data["treatment"], size=data["size"])


class _RuleSchema(_Lenient):
    buckets = fields.List(fields.Nested(_BucketSchema), load_default=None, allow_none=True)

    @post_load
    def make(self, data, **_):
        return Rule(buckets=tuple(data["buckets"] or ()))


class _TreatmentSchema(_Lenient):
    name = fields.String(required=True)

    @post_load
    def make(self, data, **_):
        return Treatment(name=data["name"])


class DefinitionSchema(_Lenient):
    name = fields.String(required=True)
    treatments = fields.List(fields.Nested(_TreatmentSchema), required=True)
    defaultTreatment = fields.String(required=True)
    defaultRule = fields.List(fields.Nested(_BucketSchema), required=True)
    environment = fields.Nested(_Reference, load_default=None, allow_none=True)
    killed = fields.Boolean(load_default=False, allow_none=True)
    trafficAllocation = fields.Integer(load_default=None, allow_none=True)
    rules = fields.List(fields.Nested(_RuleSchema), load_default=None, allow_none=True)
    lastUpdateTime = fields.Integer(load_default=None, allow_none=True)
    creationTime = fields.Integer(load_default=None, allow_none=True)

    @post_load
    def make(self, data, **_):
        environment = data["environment"] or {}
        allocation = data["trafficAllocation"]
        return Definition(
            name=data["name"],
            treatments=tuple(data["treatments"]),
            default_treatment=data["defaultTreatment"],
            default_rule=tuple(data["defaultRule"]),
            environment_id=environment.get("id"),
            environment_name=environment.get("name"),
            killed=bool(data["killed"]),
            traffic_allocation=100 if allocation is None else allocation,
            rules=tuple(data["rules"] or ()),
            last_update_time=data["lastUpdateTime"],
            creation_time=data["creationTime"],
        )


def load(schema: Schema, data, *, many: bool = False):
    """Load FME JSON with ``schema``; any shape problem becomes :class:`UnexpectedResponse`."""
    try:
        return schema.load(data, many=many)
    except ValidationError as exc:
        where = _first_error_path(exc.messages)
        raise UnexpectedResponse(SERVICE, f"FME answered in an unexpected shape ({where})") from exc


def _first_error_path(messages) -> str:
    """Where the first problem is, e.g. ``3.defaultRule.0.treatment``: short enough to show."""
    path = []
    while isinstance(messages, dict) and messages:
        key = next(iter(messages))
        if key != "_schema":  # marshmallow's key for "not an object" at this level
            path.append(str(key))
        messages = messages[key]
    return ".".join(path)[:200] or "the whole answer"
