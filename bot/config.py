"""Settings: the only place that reads the environment (and `.env`)."""

from __future__ import annotations

import ipaddress
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

from prompts import PROMPTS_DIR

DEFAULT_DATABASE_URL = "sqlite:///roundtable.db"
SLACK_API_URL = "https://slack.com/api/"
TEAMS_LOGIN_URL = "https://login.microsoftonline.com"
TEAMS_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TEAMS_TOKEN_ISSUER = "https://api.botframework.com"
TEAMS_SERVICE_URL = "https://smba.trafficmanager.net/teams"
DATABASES = {"sqlite": "sqlite:///roundtable.db", "postgresql": "postgresql://user@host/db"}
"""The databases Roundtable runs on, with an example URL of each."""
LOOPBACK = "127.0.0.1"
EVERY_INTERFACE = ("0.0.0.0", "::")
GUID = re.compile(r"[0-9A-Fa-f]{8}(-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      env_ignore_empty=True)  # "X=" in .env: X unset

    database_url: str = Field(DEFAULT_DATABASE_URL, validation_alias="DATABASE_URL")
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(SLACK_API_URL, validation_alias="SLACK_API_URL")
    facilitators: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias="ROUNDTABLE_FACILITATORS"
    )
    teams_app_id: str | None = Field(None, validation_alias="TEAMS_APP_ID")
    """The bot's Microsoft app id (its Azure Bot registration); Teams is on when it is set."""
    teams_app_password: SecretStr | None = Field(None, validation_alias="TEAMS_APP_PASSWORD")
    teams_tenant_id: str | None = Field(None, validation_alias="TEAMS_TENANT_ID")
    """The Entra tenant of a single-tenant bot registration (NHSmail's, for example)."""
    teams_facilitators: Annotated[tuple[str, ...], NoDecode] = Field(
        (), validation_alias="TEAMS_FACILITATORS")
    """Entra object ids of the people in Teams who may run rounds."""
    teams_login_url: str = Field(TEAMS_LOGIN_URL, validation_alias="TEAMS_LOGIN_URL")
    """Where the bot gets its own token (OAuth 2 client credentials); tests point it at a
    local issuer."""
    teams_openid_url: str = Field(TEAMS_OPENID_URL, validation_alias="TEAMS_OPENID_URL")
    """The Bot Connector's OpenID metadata (its signing keys beside it, at …/keys)."""
    teams_token_issuer: str = Field(TEAMS_TOKEN_ISSUER, validation_alias="TEAMS_TOKEN_ISSUER")
    teams_service_url: str = Field(TEAMS_SERVICE_URL, validation_alias="TEAMS_SERVICE_URL")
    """The Bot Connector to create chats on before any activity named one (activities bring
    their own)."""
    admins: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="ROUNDTABLE_ADMINS")
    """User ids who see and act on every round and add or remove facilitators."""
    retention_days: int = Field(365, ge=1, le=36500, validation_alias="ROUNDTABLE_RETENTION_DAYS")
    """Answers and digests of a round are deleted this many days after it closes."""
    privacy_notice: str | None = Field(None, validation_alias="ROUNDTABLE_PRIVACY_NOTICE")
    """The deployment's own words for what is kept and who sees it (first message)."""
    privacy_notice_file: Path | None = Field(
        None, validation_alias="ROUNDTABLE_PRIVACY_NOTICE_FILE")
    timezone: str = Field("Europe/London", validation_alias="ROUNDTABLE_TIMEZONE")
    port: int = Field(3000, ge=1, le=65535, validation_alias="PORT")
    host: str = Field(LOOPBACK, validation_alias="ROUNDTABLE_HOST")
    """The address `serve` (and a worker's or scheduler's /healthz) listens on: this machine
    only by default, behind the TLS proxy; 0.0.0.0 (every interface) in a container."""
    lease_seconds: int = Field(30, ge=2, le=300, validation_alias="ROUNDTABLE_LEASE_SECONDS")
    """How soon another process takes over the schedule, or the sends of a process that died."""
    llm_url: str | None = Field(None, validation_alias="ROUNDTABLE_LLM_URL")
    """An OpenAI-compatible endpoint that may group answers into themes and rewrite digest
    titles and summaries (off if unset)."""
    llm_model: str | None = Field(None, validation_alias="ROUNDTABLE_LLM_MODEL")
    llm_key: SecretStr | None = Field(None, validation_alias="ROUNDTABLE_LLM_KEY")
    llm_timeout: float = Field(30.0, gt=0, le=300, validation_alias="ROUNDTABLE_LLM_TIMEOUT")
    """Seconds to wait for the endpoint's answer to one question; a digest waits no longer
    for a model that does not answer (it posts the offline headlines)."""
    llm_grouping: bool = Field(True, validation_alias="ROUNDTABLE_LLM_GROUPING")
    """With ROUNDTABLE_LLM_URL: the model also proposes which answers make each theme
    (false: the offline engine groups, the model only words headlines)."""
    data_dir: Path | None = Field(None, validation_alias="ROUNDTABLE_DATA_DIR")
    """Local files of the service (the spool of answers kept while the database is away);
    default: the SQLite database's folder, or the working folder."""
    faults: str = Field("", validation_alias="ROUNDTABLE_FAULTS")
    """For tests and drills only: loops to make fail, e.g. `inbox-handle:3`."""
    embedding_model: Path | None = Field(None, validation_alias="ROUNDTABLE_EMBEDDING_MODEL")
    """A folder (or zip) with model.safetensors, tokenizer.json and config.json of a BERT-family
    sentence model, for deployers who fetch their own; default: the packaged all-MiniLM-L6-v2."""
    packs_dir: Path = Field(PROMPTS_DIR, validation_alias="ROUNDTABLE_PACKS_DIR")
    """Where the prompt packs are (`packs list`, `round start PACK`, the start form)."""
    https_proxy: str | None = Field(
        None, validation_alias=AliasChoices("HTTPS_PROXY", "https_proxy"))
    """The outbound web proxy every call to Slack (and the LLM endpoint) goes through."""
    log_level: str = Field("INFO", validation_alias="ROUNDTABLE_LOG_LEVEL")
    log_format: str = Field("text", validation_alias="ROUNDTABLE_LOG_FORMAT")
    """`text` (one readable line) or `json` (one JSON object a line, for a log collector)."""
    health_port: int | None = Field(None, ge=1, le=65535,
                                    validation_alias="ROUNDTABLE_HEALTH_PORT")
    """`roundtable worker` and `scheduler` answer GET /healthz on this port (off if unset)."""
    notify_socket: str | None = Field(None, validation_alias="NOTIFY_SOCKET")
    """Set by systemd for a `Type=notify` unit: where to say READY=1 and WATCHDOG=1."""
    watchdog_usec: int | None = Field(None, ge=1, validation_alias="WATCHDOG_USEC")
    """Set by systemd from the unit's WatchdogSec=: how often to say the process is healthy."""

    @field_validator("facilitators", "teams_facilitators", "admins", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("faults")
    @classmethod
    def _faults(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            name, _, count = item.partition(":")
            if not name or (count and not count.isdigit()):
                raise ValueError("expected loop names with an optional count, e.g. "
                                 "inbox-handle:3")
        return value

    @field_validator("embedding_model", "privacy_notice", "privacy_notice_file", mode="before")
    @classmethod
    def _unset_when_empty(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("privacy_notice_file")
    @classmethod
    def _readable(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                text = value.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ValueError(f"cannot read {value}: {exc}") from None
            if not text.strip():
                raise ValueError(f"{value} is empty")
        return value

    @property
    def privacy_text(self) -> str | None:
        """The deployment's words for the privacy notice, if it has its own."""
        if self.privacy_notice_file is not None:
            return self.privacy_notice_file.read_text(encoding="utf-8").strip()
        return self.privacy_notice.replace("\\n", "\n") if self.privacy_notice else None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a name too long
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if "://" not in value:
            raise ValueError("expected a URL such as sqlite:///roundtable.db or postgresql://…")
        scheme = value.split("://", 1)[0].split("+", 1)[0].lower()
        if scheme not in (*DATABASES, "postgres"):
            raise ValueError(f"{scheme} is not supported: Roundtable runs on SQLite "
                             "(sqlite:///roundtable.db) or PostgreSQL (postgresql://user@host/db)")
        if value.startswith(("postgresql://", "postgres://")):
            # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value

    @field_validator("teams_tenant_id")
    @classmethod
    def _tenant_id(cls, value: str | None) -> str | None:
        # activities name their tenant by its GUID: a domain name would match none of them
        if value is not None and not GUID.fullmatch(value.strip()):
            raise ValueError("expected the Directory (tenant) ID, a GUID such as "
                             "12345678-90ab-cdef-1234-567890abcdef, as Entra shows it")
        return value.strip() if value is not None else None

    @field_validator("packs_dir")
    @classmethod
    def _packs_dir(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value

    @field_validator("llm_url")
    @classmethod
    def _llm_url(cls, value: str | None) -> str | None:
        """Answers go to this URL: over TLS, unless it never leaves the machine."""
        if not value or not value.strip():
            return None
        value = value.strip()
        parsed = urlsplit(value)
        if parsed.scheme == "https" and parsed.hostname:
            return value
        if parsed.scheme == "http" and _loopback(parsed.hostname):
            return value
        raise ValueError("must start with https:// (plain http:// only to this machine, e.g. "
                         "http://127.0.0.1:11434/v1), as people's answers are sent to it")

    @field_validator("https_proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected the proxy's URL, e.g. http://proxy.example.nhs.uk:8080")
        return value

    @field_validator("host", mode="before")
    @classmethod
    def _host(cls, value: object) -> object:
        host = str(value).strip().strip("[]")
        try:
            return str(ipaddress.ip_address(host))
        except ValueError:
            if HOSTNAME.match(host):
                return host
        raise ValueError(f"expected an address to listen on, not {str(value)!r}: 127.0.0.1 "
                         "(this machine only) or 0.0.0.0 (every interface)")

    @property
    def local_host(self) -> str:
        """Where a process on this machine reaches what listens on `host`."""
        return LOOPBACK if self.host in EVERY_INTERFACE else self.host

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        level = str(value).strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, value: object) -> object:
        chosen = str(value).strip().lower()
        if chosen not in LOG_FORMATS:
            raise ValueError(f"expected one of {', '.join(LOG_FORMATS)}")
        return chosen

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL")
        return value if value.endswith("/") else value + "/"

    @field_validator("teams_login_url", "teams_openid_url", "teams_token_issuer",
                     "teams_service_url")
    @classmethod
    def _teams_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL")
        return value.rstrip("/")

    @field_validator("teams_openid_url")
    @classmethod
    def _openid_url(cls, value: str) -> str:
        if not value.endswith("/openidconfiguration"):
            # the Teams SDK finds the signing keys beside it, at …/keys
            raise ValueError("expected a URL ending in /openidconfiguration")
        return value

    @property
    def data_folder(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(str(url.database)).absolute().parent
        return Path.cwd()

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token and self.slack_bot_token.get_secret_value())

    @property
    def teams_enabled(self) -> bool:
        return bool(self.teams_app_id)

    def require_teams(self) -> None:
        """Fail with one clear line when a Teams setting is missing."""
        if not self.teams_app_id:
            raise ConfigError("TEAMS_APP_ID is not set (see .env.example)")
        if _blank(self.teams_app_password):
            raise ConfigError("TEAMS_APP_PASSWORD is not set (see .env.example)")

    def require_platform(self, *, socket: bool = False, receiving: bool = True) -> None:
        """At least one platform, and everything it needs: Slack's settings when its token is
        set or Teams is not; Teams' when its app id is set. A process that only sends
        (`receiving=False`: the worker, the scheduler, a posted digest) needs no signing
        secret."""
        if self.teams_enabled:
            self.require_teams()
        if self.slack_enabled or not self.teams_enabled or socket:
            self.require_slack(socket=socket, receiving=receiving)

    def require_slack(self, *, socket: bool = False, receiving: bool = True) -> None:
        """Fail with one clear line when a Slack setting the command needs is missing."""
        needed = ["SLACK_BOT_TOKEN"]
        if socket:
            needed.append("SLACK_APP_TOKEN")
        elif receiving:
            needed.append("SLACK_SIGNING_SECRET")
        values = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
            "SLACK_APP_TOKEN": self.slack_app_token,
        }
        for name in needed:
            if _blank(values[name]):
                raise ConfigError(f"{name} is not set (see .env.example)")


def _blank(secret: SecretStr | None) -> bool:
    """Unset, empty or only spaces (a quoted " " in .env): no platform accepts that."""
    return secret is None or not secret.get_secret_value().strip()


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        name = _env_name(field)
        raise ConfigError(f"{name}: {_plainly(first)}") from None


def _plainly(error: Any) -> str:
    """pydantic's problem with a setting, in words of our own where it speaks of types."""
    kind, given, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind == "int_parsing":
        return f"should be a whole number, not {given!r}"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound, side = (ctx["ge"], "more") if kind == "greater_than_equal" else (ctx["le"], "less")
        return f"should be {bound} or {side}, not {given}"
    return str(error["msg"]).removeprefix("Value error, ")


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    return alias if isinstance(alias, str) else field.upper()


BOLT_OAUTH_VARIABLES = ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET")
"""With both in the process environment (even empty), Bolt's App takes up its own OAuth flow
for many workspaces and leaves the bot token unused: every request would then fail."""


def bolt_oauth_variables() -> tuple[str, ...]:
    """BOLT_OAUTH_VARIABLES when both are in this process's environment (a .env file does not
    count: Bolt reads only the environment), else nothing."""
    present = tuple(name for name in BOLT_OAUTH_VARIABLES if name in os.environ)
    return present if present == BOLT_OAUTH_VARIABLES else ()


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()
