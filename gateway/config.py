"""The configuration file (DESIGN §4.2, a contract): TOML, validated in full at start-up.

Settings are frozen dataclasses; pydantic checks them so that an unknown key, a missing file or
a bad value stops start-up with a message naming the key (`agencies[2].token_sha256: ...`).
Relative paths are resolved against the directory of the configuration file.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import field
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.dataclasses import dataclass

from gateway.vdxp.secret import SecretError, resolve_secret

STRICT = ConfigDict(extra="forbid", frozen=True)

Sha256Hex = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
HostPort = Annotated[str, Field(pattern=r"^[^\s:]+:\d{1,5}$")]
# QCVN 102 (000.00.00.G22), QĐ 20/2020 (H37.02.02) and what real traffic holds (vxp.saas.03).
OrganId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,34}$")]
SignaturePolicy = Literal["required", "optional"]
PdfSignaturePolicy = Literal["ignore", "report", "required"]
InstanceName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$")]

MIB = 1024 * 1024


class ConfigError(Exception):
    """The configuration cannot be used; the message names the key and what is wrong."""


@dataclass(config=STRICT)
class ServerSettings:
    listen: HostPort = "127.0.0.1:8080"
    ops_listen: HostPort = "127.0.0.1:9090"
    data_dir: Path = Path("var")
    # HTTPS on the agency listener; clients may then authenticate with a certificate
    # pinned in agencies.client_certs (mutual TLS) instead of a bearer token
    tls_cert: Path | None = None
    tls_key: Path | None = None
    # processes that verify large messages and read PDFs, off the gateway's GIL (0: threads)
    worker_processes: Annotated[int, Field(ge=0, le=64)] = 1
    # slow and greedy clients (docs/http.md): a request head must arrive within
    # header_timeout_s of connecting or of the previous answer, a body within body_timeout_s
    header_timeout_s: Annotated[float, Field(gt=0, le=3600)] = 20.0
    body_timeout_s: Annotated[float, Field(gt=0, le=86400)] = 300.0
    max_connections_per_client: Annotated[int, Field(ge=1, le=100_000)] = 128

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key: give both or neither")
        return self

    @field_validator("listen", "ops_listen")
    @classmethod
    def _port_in_range(cls, value: str) -> str:
        if not 0 < int(value.rpartition(":")[2]) <= 65535:
            raise ValueError(f"{value!r}: the port must be from 1 to 65535")
        return value

    @model_validator(mode="after")
    def _two_listeners(self) -> ServerSettings:
        host, _, port = self.listen.rpartition(":")
        ops_host, _, ops_port = self.ops_listen.rpartition(":")
        wildcard = {"0.0.0.0", "::", "[::]", "*"}  # noqa: S104 (names, not a bind)
        if port == ops_port and (host == ops_host or {host, ops_host} & wildcard):
            raise ValueError(
                f"ops_listen: {self.ops_listen} is the agency listener's address too "
                f"(listen = {self.listen}); give it another port"
            )
        return self


@dataclass(config=STRICT)
class BusSettings:
    url: str = "local"
    max_attempts: Annotated[int, Field(ge=1, le=1000)] = 12
    retry_initial_s: Annotated[float, Field(gt=0)] = 2.0
    retry_max_s: Annotated[float, Field(gt=0)] = 3600.0
    prefetch: Annotated[int, Field(ge=1, le=10_000)] = 64

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value != "local" and not value.startswith(("amqp://", "amqps://")):
            raise ValueError('must be "local" or an amqp:// or amqps:// URL')
        return value


@dataclass(config=STRICT)
class DatabaseSettings:
    url: str = "sqlite"

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value != "sqlite" and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError('must be "sqlite" or a postgresql:// URL')
        return value


@dataclass(config=STRICT)
class LimitSettings:
    max_document_bytes: Annotated[int, Field(ge=1024, le=1024 * MIB)] = 50 * MIB
    max_xml_depth: Annotated[int, Field(ge=8, le=256)] = 64
    max_recipients: Annotated[int, Field(ge=1, le=10_000)] = 500
    # seconds one document's signature and PDF checks may take in a worker process before it
    # is killed and the document refused (attachment_unreadable, 422)
    attachment_budget_s: Annotated[float, Field(ge=0.01, le=120)] = 5.0
    # below this free space on data_dir new documents are refused (507); 0 turns the check off
    min_free_bytes: Annotated[int, Field(ge=0)] = 1024 * MIB


# The statistics compare a year with the year before it, from facts kept with the metadata.
MIN_METADATA_DAYS = 2 * 366


@dataclass(config=STRICT)
class RetentionSettings:
    """How long the gateway keeps what it holds (docs/operations.md)."""

    bodies_days: Annotated[int, Field(ge=1, le=3650)] = 30
    metadata_days: int = 3650

    @field_validator("metadata_days")
    @classmethod
    def _enough_for_statistics(cls, value: int) -> int:
        if value < MIN_METADATA_DAYS:
            raise ValueError(
                f"must be at least {MIN_METADATA_DAYS}: the statistics compare a year with the "
                "year before, from the metadata"
            )
        return value


@dataclass(config=STRICT)
class TrustSettings:
    anchors: tuple[Path, ...] = ()
    intermediates: tuple[Path, ...] = ()
    crls: tuple[Path, ...] = ()
    signature: SignaturePolicy = "required"


@dataclass(config=STRICT)
class StatsSettings:
    timezone: str = "Asia/Ho_Chi_Minh"
    target: Annotated[float, Field(ge=0, le=1)] = 0.90

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


@dataclass(config=STRICT)
class DeliverySettings:
    """`adapter` picks the plugin and `name` names its instance (default `<adapter>:<agency>`,
    in logs, metrics and the operators' API); the other keys belong to the plugin, which
    checks them."""

    adapter: str = "mailbox"
    options: dict[str, Any] = field(default_factory=dict)
    name: InstanceName | None = None

    @model_validator(mode="before")
    @classmethod
    def _gather_options(cls, data: Any) -> Any:
        if isinstance(data, dict) and "options" not in data:
            adapter = data.get("adapter", "mailbox")
            gathered = {
                "adapter": adapter,
                "options": {k: v for k, v in data.items() if k not in ("adapter", "name")},
            }
            return gathered | ({"name": data["name"]} if "name" in data else {})
        return data


@dataclass(config=STRICT)
class AdapterSettings:
    """How the gateway paces an agency whose system fails deliveries (docs/adapters.md)."""

    backoff_initial_s: Annotated[float, Field(gt=0, le=86400)] = 10.0
    backoff_max_s: Annotated[float, Field(gt=0, le=7 * 86400)] = 3600.0


@dataclass(config=STRICT)
class AgencySettings:
    id: OrganId
    name: Annotated[str, Field(min_length=1, max_length=500)]
    # none for an agency that never calls the agency API with a token (a ministry reached
    # through the national axis, a department that uses only the vdxp façade)
    token_sha256: Sha256Hex | None = None
    group: str = "default"
    signing_certs: tuple[Path, ...] = ()
    signature: SignaturePolicy | None = None
    client_certs: tuple[Path, ...] = ()  # TLS client certificates that authenticate it
    # reading PDF signatures costs ~30 ms per signed PDF here (pyHanko): opt-in per agency
    pdf_signatures: PdfSignaturePolicy = "ignore"
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    # the national axis' SDK calling the façade /vdxp/* (docs/vdxp.md): the HMAC secret, kept
    # as such since the HMAC needs it (or env:NAME), the SDK's systemid (default: the id) and
    # how far a call's timestamp may lie from the gateway's clock
    vdxp_secret: str | None = None
    vdxp_systemid: OrganId | None = None
    vdxp_window_s: Annotated[int, Field(ge=30, le=7 * 86400)] = 300

    @field_validator("vdxp_secret")
    @classmethod
    def _usable_secret(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                resolve_secret(value)  # an unset env:NAME stops start-up here, naming the key
            except SecretError as exc:
                raise ValueError(str(exc)) from None
        return value


# argon2id in the PHC string form argon2-cffi writes (`edocgw users hash-password`)
Argon2idHash = Annotated[
    str, Field(pattern=r"^\$argon2id\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")
]


@dataclass(config=STRICT)
class UserSettings:
    name: Annotated[str, Field(min_length=1, max_length=64)]
    role: Literal["operator", "auditor"]
    token_sha256: Sha256Hex | None = None  # the API and the CLI
    password_argon2: Argon2idHash | None = None  # the console (gateway.console)

    @model_validator(mode="after")
    def _some_credential(self) -> UserSettings:
        if self.token_sha256 is None and self.password_argon2 is None:
            raise ValueError("give token_sha256, password_argon2 or both")
        return self


@dataclass(config=STRICT)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    bus: BusSettings = field(default_factory=BusSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    stats: StatsSettings = field(default_factory=StatsSettings)
    adapters: AdapterSettings = field(default_factory=AdapterSettings)
    agencies: tuple[AgencySettings, ...] = ()
    users: tuple[UserSettings, ...] = ()

    @model_validator(mode="after")
    def _unique_ids_and_tokens(self) -> Settings:
        seen_ids: set[str] = set()
        for index, agency in enumerate(self.agencies):
            if agency.id in seen_ids:
                raise ValueError(f"agencies[{index}].id: {agency.id} is configured twice")
            seen_ids.add(agency.id)
        tokens = [a.token_sha256 for a in self.agencies if a.token_sha256 is not None]
        tokens += [u.token_sha256 for u in self.users if u.token_sha256 is not None]
        names = [u.name for u in self.users]
        if len(names) != len(set(names)):
            raise ValueError("users: two users share one name")
        systemids = [a.vdxp_systemid or a.id for a in self.agencies if a.vdxp_secret is not None]
        if len(systemids) != len(set(systemids)):
            raise ValueError("vdxp_systemid: two agencies share one systemid")
        if len(tokens) != len(set(tokens)):
            raise ValueError("token_sha256: two agencies or users share one token")
        return self

    def agency(self, organ_id: str) -> AgencySettings | None:
        return next((a for a in self.agencies if a.id == organ_id), None)

    def signature_policy(self, agency: AgencySettings) -> SignaturePolicy:
        return agency.signature or self.trust.signature


# Connection URLs carry passwords: a deployment may keep them out of the file.
ENVIRONMENT_OVERRIDES = {
    "EDOCGW_BUS_URL": ("bus", "url"),
    "EDOCGW_DATABASE_URL": ("database", "url"),
}


def load_settings(path: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read, validate and resolve a configuration file, or raise ConfigError naming the key.

    EDOCGW_BUS_URL and EDOCGW_DATABASE_URL, when set, replace `[bus] url` and `[database] url`.
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such configuration file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    environ = os.environ if environ is None else environ
    for variable, (section, key) in ENVIRONMENT_OVERRIDES.items():
        if environ.get(variable):
            if not isinstance(raw.get(section, {}), dict):
                raise ConfigError(f"{path}: {section}: must be a table")
            raw.setdefault(section, {})[key] = environ[variable]
    try:
        settings = Settings(**raw)
    except ValidationError as exc:
        raise ConfigError(f"{path}: {_describe(exc)}") from exc
    except TypeError as exc:  # a top-level key the dataclass does not have
        raise ConfigError(f"{path}: {exc}") from exc
    resolved = _resolve_paths(settings, path.parent.resolve())
    _check_files_exist(resolved)
    _check_folders_apart(resolved, path.parent.resolve())
    return resolved


def _describe(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        key = _key_path(error["loc"])
        message = "unknown key" if error["type"] == "unexpected_keyword_argument" else error["msg"]
        problems.append(f"{key}: {message}" if key else message)
    return "; ".join(problems)


def _key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _resolve_paths(settings: Settings, base: Path) -> Settings:
    from dataclasses import replace

    def absolute(p: Path) -> Path:
        return p if p.is_absolute() else (base / p)

    trust = replace(
        settings.trust,
        anchors=tuple(map(absolute, settings.trust.anchors)),
        intermediates=tuple(map(absolute, settings.trust.intermediates)),
        crls=tuple(map(absolute, settings.trust.crls)),
    )
    agencies = tuple(
        replace(
            a,
            signing_certs=tuple(map(absolute, a.signing_certs)),
            client_certs=tuple(map(absolute, a.client_certs)),
        )
        for a in settings.agencies
    )

    def optional(p: Path | None) -> Path | None:
        return None if p is None else absolute(p)

    server = replace(
        settings.server,
        data_dir=absolute(settings.server.data_dir),
        tls_cert=optional(settings.server.tls_cert),
        tls_key=optional(settings.server.tls_key),
    )
    return replace(settings, server=server, trust=trust, agencies=agencies)


def _check_folders_apart(settings: Settings, config_dir: Path) -> None:
    """A department's folders (the folder adapter's inbox and outbox, which it writes to and
    the gateway moves files in) are never inside the gateway's data folder or configuration
    folder, nor hold either of them."""
    own = {
        "server.data_dir": settings.server.data_dir.resolve(),
        "the configuration folder": config_dir,
    }
    for index, agency in enumerate(settings.agencies):
        if agency.delivery.adapter != "folder":
            continue
        for key in ("inbox", "outbox"):
            value = agency.delivery.options.get(key)
            if not isinstance(value, str) or not value.strip():
                continue  # the adapter names what is missing
            folder = (config_dir / Path(value).expanduser()).resolve()
            for name, path in own.items():
                if folder == path or path in folder.parents or folder in path.parents:
                    raise ConfigError(
                        f"agencies[{index}].delivery.{key}: {folder} overlaps {name} ({path}); "
                        "give the department a folder apart from the gateway's own"
                    )


def _check_files_exist(settings: Settings) -> None:
    named: list[tuple[str, Path]] = []
    for key in ("anchors", "intermediates", "crls"):
        paths: tuple[Path, ...] = getattr(settings.trust, key)
        named += [(f"trust.{key}[{i}]", p) for i, p in enumerate(paths)]
    for i, agency in enumerate(settings.agencies):
        named += [
            (f"agencies[{i}].signing_certs[{j}]", p) for j, p in enumerate(agency.signing_certs)
        ]
        named += [
            (f"agencies[{i}].client_certs[{j}]", p) for j, p in enumerate(agency.client_certs)
        ]
    for key in ("tls_cert", "tls_key"):
        if (path := getattr(settings.server, key)) is not None:
            named.append((f"server.{key}", path))
    for key, path in named:
        if not path.is_file():
            raise ConfigError(f"{key}: no such file {path}")
