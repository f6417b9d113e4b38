"""The FME Admin API's JSON, loaded into small frozen dataclasses.

Every field beyond what the app cannot work without is optional, and unknown fields are
ignored, so FME adding or dropping a field does not break a refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load

from fmejira.outbound import RemoteError


class UnexpectedResponse(RemoteError):
    """FME answered with JSON the app cannot read."""


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str


@dataclass(frozen=True)
class Environment:
    id: str
    name: str
    production: bool = False


@dataclass(frozen=True)
class Flag:
    id: str | None
    name: str
    description: str | None = None
    traffic_type: str | None = None
    tags: tuple[str, ...] = ()
    rollout_status: str | None = None
    creation_time: int | None = None


@dataclass(frozen=True)
class Bucket:
    treatment: str
    size: int


@dataclass(frozen=True)
class Rule:
    buckets: tuple[Bucket, ...] = ()


@dataclass(frozen=True)
class Treatment:
    name: str


@dataclass(frozen=True)
class Definition:
    name: str
    treatments: tuple[Treatment, ...]
    default_treatment: str
    default_rule: tuple[Bucket, ...]
    environment_id: str | None = None
    environment_name: str | None = None
    killed: bool = False
    traffic_allocation: int = 100
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    last_update_time: int | None = None
    creation_time: int | None = None


class _Base(Schema):
    class Meta:
        unknown = EXCLUDE


class _Named(_Base):
    id = fields.String(load_default=None)
    name = fields.String(load_default=None, allow_none=True)


class WorkspaceSchema(_Base):
    id = fields.String(required=True)
    name = fields.String(required=True)

    @post_load
    def make(self, data, **_):
        return Workspace(**data)


class EnvironmentSchema(_Base):
    id = fields.String(required=True)
    name = fields.String(required=True)
    production = fields.Boolean(load_default=False, allow_none=True)

    @post_load
    def make(self, data, **_):
        return Environment(data["id"], data["name"], bool(data.get("production")))


class _TagSchema(_Base):
    name = fields.String(required=True)


class FlagSchema(_Base):
    id = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True)
    description = fields.String(load_default=None, allow_none=True)
    trafficType = fields.Nested(_Named, load_default=None, allow_none=True)
    tags = fields.List(fields.Nested(_TagSchema), load_default=list, allow_none=True)
    rolloutStatus = fields.Nested(_Named, load_default=None, allow_none=True)
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


class _BucketSchema(_Base):
    treatment = fields.String(required=True)
    size = fields.Integer(load_default=0)

    @post_load
    def make(self, data, **_):
        return Bucket(**data)


class _RuleSchema(_Base):
    buckets = fields.List(fields.Nested(_BucketSchema), load_default=list)

    @post_load
    def make(self, data, **_):
        return Rule(tuple(data["buckets"]))


class _TreatmentSchema(_Base):
    name = fields.String(required=True)

    @post_load
    def make(self, data, **_):
        return Treatment(**data)


class DefinitionSchema(_Base):
    name = fields.String(required=True)
    treatments = fields.List(fields.Nested(_TreatmentSchema), required=True)
    defaultTreatment = fields.String(required=True)
    defaultRule = fields.List(fields.Nested(_BucketSchema), required=True)
    environment = fields.Nested(_Named, load_default=None, allow_none=True)
    killed = fields.Boolean(load_default=False, allow_none=True)
    trafficAllocation = fields.Integer(load_default=100, allow_none=True)
    rules = fields.List(fields.Nested(_RuleSchema), load_default=list, allow_none=True)
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
    """Load FME JSON, turning any shape problem into :class:`UnexpectedResponse`."""
    try:
        return schema.load(data, many=many)
    except (ValidationError, TypeError, ValueError) as exc:
        raise UnexpectedResponse("FME", f"unexpected response shape: {exc}") from exc
