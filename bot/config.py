"""Settings: the only place that reads the environment (and `.env`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite:///roundtable.db"
SLACK_API_URL = "https://slack.com/api/"
PROJECT_PACKS = Path(__file__).resolve().parents[1] / "prompts"
"""The project's own packs (prompts/ in the source tree), unless ROUNDTABLE_PACKS_DIR says."""
DATABASES = {"sqlite": "sqlite:///roundtable.db", "postgresql": "postgresql://user@host/db"}
"""The databases Roundtable runs on, with an example URL of each."""
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
    timezone: str = Field("Europe/London", validation_alias="ROUNDTABLE_TIMEZONE")
    port: int = Field(3000, ge=1, le=65535, validation_alias="PORT")
    lease_seconds: int = Field(30, ge=2, le=300, validation_alias="ROUNDTABLE_LEASE_SECONDS")
    """How soon another process takes over the schedule, or the sends of a process that died."""
    llm_url: str | None = Field(None, validation_alias="ROUNDTABLE_LLM_URL")
    """An OpenAI-compatible endpoint that may rewrite digest titles and summaries (off if unset)."""
    llm_model: str | None = Field(None, validation_alias="ROUNDTABLE_LLM_MODEL")
    llm_key: SecretStr | None = Field(None, validation_alias="ROUNDTABLE_LLM_KEY")
    data_dir: Path | None = Field(None, validation_alias="ROUNDTABLE_DATA_DIR")
    """Local files of the service (the spool of answers kept while the database is away);
    default: the SQLite database's folder, or the working folder."""
    faults: str = Field("", validation_alias="ROUNDTABLE_FAULTS")
    """For tests and drills only: loops to make fail, e.g. `inbox-handle:3`."""
    packs_dir: Path = Field(PROJECT_PACKS, validation_alias="ROUNDTABLE_PACKS_DIR")
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

    @field_validator("facilitators", mode="before")
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

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
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

    @field_validator("packs_dir")
    @classmethod
    def _packs_dir(cls, value: Path) -> Path:
        if not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value

    @field_validator("https_proxy")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected the proxy's URL, e.g. http://proxy.example.nhs.uk:8080")
        return value

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

    @property
    def data_folder(self) -> Path:
        if self.data_dir is not None:
            return self.data_dir
        url = make_url(self.database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return Path(str(url.database)).absolute().parent
        return Path.cwd()

    def require_slack(self, *, socket: bool = False) -> None:
        """Fail with one clear line when a Slack setting the command needs is missing."""
        needed = ["SLACK_BOT_TOKEN"] + (["SLACK_APP_TOKEN"] if socket else ["SLACK_SIGNING_SECRET"])
        values = {
            "SLACK_BOT_TOKEN": self.slack_bot_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
            "SLACK_APP_TOKEN": self.slack_app_token,
        }
        for name in needed:
            if values[name] is None or not values[name].get_secret_value():  # type: ignore[union-attr]
                raise ConfigError(f"{name} is not set (see .env.example)")


def load_settings(**overrides: object) -> Settings:
    """Read settings, turning pydantic's report into one line naming the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        name = _env_name(field)
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None


def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    return alias if isinstance(alias, str) else field.upper()


@lru_cache(maxsize=1)
def settings() -> Settings:
    return load_settings()
