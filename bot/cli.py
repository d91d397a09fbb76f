"""The `roundtable` command. Thin: parses arguments and calls into the core.

Heavy modules are imported inside the commands so that `roundtable --help` stays fast.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from bot.core.wording import counted

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from datetime import datetime

    from typer.models import CommandFunctionType

    from bot.app.processes import Served
    from bot.app.review import Change
    from bot.app.roundtable import Roundtable
    from bot.config import Settings
    from bot.core.digest.model import DigestView
    from storage.database import Database


class _Command(TyperCommand):
    """A command whose usage line names its arguments the usual way (`USER`, `[PATHS]...`):
    typer writes a required one as `{user}`, which reads as a placeholder left unfilled. Its
    help's Arguments panel and its errors name an argument as the usage line does (`USER`,
    `Missing argument 'USER'`), and a bad value is refused in words of ours (`should be a
    whole number`), not those of the checker typer uses."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            # typer's help panel and error hints show an argument's metavar, else its name
            if isinstance(param, TyperArgument) and param.metavar is None:
                # one that takes several says so, as the usage line's `[PATHS]...` does
                more = "..." if param.nargs != 1 else ""
                param.metavar = (param.name or "").upper() + more

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None,
                     **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except typer.BadParameter as exc:  # typer checks values with pydantic, in its words
            plain = _plainly(exc.message)
            if plain == exc.message:  # our own, or click's (a missing argument, a file)
                raise
            raise typer.BadParameter(plain, ctx=exc.ctx, param=exc.param,
                                     param_hint=exc.param_hint) from None

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            _refuse_repeated_options(ctx, self.make_parser(ctx), args)
        return super().parse_args(ctx, args)

    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_take_no_value(super().get_params(ctx))

    def collect_usage_pieces(self, ctx: Any) -> list[str]:  # typer's click Context
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(_usage_name(param))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_take_no_value(super().get_params(ctx))


def _flags_take_no_value(params: list[Any]) -> list[Any]:
    """typer's help shows a flag's type beside it (`--help <bool>`), which reads as an option
    wanting true or false: a flag's row shows none."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


def _refuse_repeated_options(ctx: Any, parser: Any, args: list[str]) -> None:
    """An option that takes one value, given twice: click keeps the last and drops the first
    unsaid (a facilitator's first `--rename` of two would be lost), so it is refused."""
    try:
        _, _, order = parser.parse_args(args=list(args))
    except typer.TyperException:
        return  # the parse proper says what is wrong
    given = Counter(param for param in order if isinstance(param, TyperOption)
                    and not (param.multiple or param.is_flag or param.count))
    for option, times in given.items():
        if times > 1:
            raise typer.BadParameter(f"given {times} times, and it takes one: run the command "
                                     "again for the next", ctx=ctx, param=option)


_PLAINLY = (
    (re.compile(r"^Input should be a valid integer.*", re.DOTALL), "should be a whole number"),
    (re.compile(r"^Input should be greater than or equal to (\S+)$"), r"should be \1 or more"),
    (re.compile(r"^Input should be less than or equal to (\S+)$"), r"should be \1 or less"),
    (re.compile(r"^Input should be (.*)$", re.DOTALL), r"should be \1"),
    (re.compile(r"^Value error, (.*)$", re.DOTALL), r"\1"),  # a choice not among the listed
)
"""pydantic's words for a bad value, as a command's error says them."""


def _plainly(message: str) -> str:
    for pattern, plain in _PLAINLY:
        if pattern.match(message):
            return pattern.sub(plain, message)
    return message


def _argument_name(argument: TyperArgument) -> str:
    """An argument's name as the usage line writes it, bare (`USER`, `PATHS`)."""
    return (argument.metavar or (argument.name or "").upper()).removesuffix("...")


def _usage_name(argument: TyperArgument) -> str:
    name = _argument_name(argument)
    if not argument.required:
        name = f"[{name}]"
    return f"{name}..." if argument.nargs != 1 else name


class _Commands(typer.Typer):
    """A command group whose commands are `_Command`s unless told otherwise."""

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None,
        **options: Any,
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or _Command, **options)


def _group(help: str, **options: Any) -> typer.Typer:
    """A command group. Its help is read as Markdown, so that a docstring's lines are wrapped
    to the terminal rather than broken where the source breaks them."""
    options.setdefault("no_args_is_help", True)
    return _Commands(help=help, rich_markup_mode="markdown", cls=_Group, **options)


app = _group("Roundtable: a workshop's questions for the people who could not attend.",
             add_completion=False, pretty_exceptions_enable=False)
db_app = _group("Create, migrate or back up the database.")
packs_app = _group("Prompt packs, each a workshop's questions (in ROUNDTABLE_PACKS_DIR, default "
                   "prompts/): list them, check them.")
round_app = _group("Start, follow and close rounds.")
inbox_app = _group("Incoming messages that could not be handled.")
teams_app = _group("Microsoft Teams: build the app package to upload to a tenant.")
digest_app = _group("The digest of a round, and reviewing it before it posts.",
                    no_args_is_help=False)
participant_app = _group(
    "One person's data, on their written request: a copy, stop, or forget.")


DEBUG = False
"""--debug: a traceback for unexpected errors, and logs at DEBUG."""


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"roundtable {version('roundtable')}")
        raise typer.Exit()


@app.callback()
def options(
    debug: Annotated[bool, typer.Option(
        "--debug", help="Show the traceback of an unexpected error (otherwise one line).")
    ] = False,
    _show_version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Print the version and stop.")
    ] = False,
) -> None:
    """Roundtable: a workshop's questions for the people who could not attend."""
    global DEBUG
    DEBUG = debug


app.add_typer(db_app, name="db")
app.add_typer(packs_app, name="packs")
app.add_typer(round_app, name="round")
app.add_typer(inbox_app, name="inbox")
app.add_typer(teams_app, name="teams")
app.add_typer(participant_app, name="participant")
app.add_typer(digest_app, name="digest")


class DigestFormat(StrEnum):
    text = "text"
    md = "md"
    json = "json"
    blocks = "blocks"


class ExportFormat(StrEnum):
    md = "md"
    docx = "docx"
    csv = "csv"
    html = "html"


class Platform(StrEnum):
    slack = "slack"
    teams = "teams"


class HeldOn(StrEnum):
    """Where a person's data came from: a chat platform, or an imported file."""

    slack = "slack"
    teams = "teams"
    imported = "import"


class Mode(StrEnum):
    named = "named"
    by_role = "by-role"
    anonymous = "anonymous"


def typed_mode(stored: str) -> str:
    """A round's mode as --mode takes it ("by-role"), not as it is stored ("role")."""
    from bot.core.rounds import MODE_WORDS

    return next((m.value for m in Mode if MODE_WORDS[m.value] == stored), stored)


def _now() -> datetime:
    from bot.core.ports import utcnow

    return utcnow()


def fail(message: str) -> NoReturn:
    typer.echo(f"roundtable: {message}", err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    from bot.config import ConfigError, load_settings

    try:
        chosen = load_settings()
    except ConfigError as exc:
        fail(str(exc))
    return chosen.model_copy(update={"log_level": "DEBUG"}) if DEBUG else chosen


def _database() -> Database:
    from bot.app.database import open_database
    from bot.core.errors import RoundtableError

    try:
        return open_database(_settings())
    except RoundtableError as exc:
        fail(str(exc))


def platforms(settings: Settings, database: Database) -> Sequence[Served]:
    """The chat platforms this installation is set up for: Slack (unless only Teams is set
    up) and Teams (when TEAMS_APP_ID is set)."""
    from bot.slack.app import SlackPlatform

    chosen: list[Served] = []
    if settings.slack_enabled or not settings.teams_enabled:
        chosen.append(SlackPlatform(settings, database))
    if settings.teams_enabled:
        from bot.teams.app import TeamsPlatform

        chosen.append(TeamsPlatform(settings, database))
    return chosen


def _application() -> Roundtable:
    """The application, for a command that acts once (nothing is started)."""
    from bot.app.roundtable import assemble

    settings, database = _settings(), _database()
    return assemble(settings, database, platforms(settings, database))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database or migrate it to the latest schema (safe to run again)."""
    from bot.app.database import known_revision
    from bot.core.errors import RoundtableError
    from storage.db import make_engine
    from storage.migrate import current_revision, upgrade

    engine = make_engine(_settings().database_url)
    try:
        known_revision(engine)  # reachable, and not migrated by a newer release
    except RoundtableError as exc:
        fail(str(exc))
    try:
        upgrade(engine)
        typer.echo(f"database at revision {current_revision(engine)}")
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        fail(f"DATABASE_URL: upgrade failed ({exc.__class__.__name__}: {str(exc).splitlines()[0]})")


@db_app.command("backup")
def db_backup(
    path: Annotated[Path, typer.Argument(
        help="The backup file to write, e.g. /var/backups/roundtable/2026-12-01.db; the inbox "
             "file goes beside it (2026-12-01.inbox.db).")],
) -> None:
    """Back up the SQLite database and its inbox file while the service runs (SQLite's online
    backup: each a consistent copy). For PostgreSQL, it says how to use pg_dump."""
    from storage.backup import BackupError, backup_sqlite, pg_dump_target, sqlite_path

    settings = _settings()
    if sqlite_path(settings.database_url) is None:
        # The URL itself: the services' settings are in .env, not in the shell's environment.
        fail("DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g. `pg_dump "
             f"--format=custom --file {path} \"{pg_dump_target(settings.database_url)}\"` "
             "(it asks for the password, or reads ~/.pgpass), and restore with pg_restore "
             "(docs/operations.md, Backups)")
    try:
        copied = backup_sqlite(settings.database_url, path)
    except BackupError as exc:
        fail(f"db backup: {exc}")
    for one in copied:
        typer.echo(f"{one.source} -> {one.backup}")


@app.command("health")
def health_check(
    url: Annotated[str | None, typer.Option(
        help="The /healthz to ask (default: this machine's, on ROUNDTABLE_HEALTH_PORT if set, "
             "else PORT).")] = None,
) -> None:
    """Ask a running process whether it is healthy: prints its /healthz report; exit status 0
    when it is, 1 when it is not or nothing answers (for Docker's HEALTHCHECK, monitoring)."""
    import urllib.error
    import urllib.request

    if url is None:
        settings = _settings()
        host = settings.local_host
        host = f"[{host}]" if ":" in host else host
        url = f"http://{host}:{settings.health_port or settings.port}/healthz"
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy
    try:
        with direct.open(url, timeout=10) as response:
            typer.echo(response.read().decode())
    except urllib.error.HTTPError as exc:
        typer.echo(exc.read().decode())
        fail(f"unhealthy: {url} answered {exc.code}")
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        fail(f"nothing answers at {url} ({reason}): is the service running?")


@packs_app.command("list")
def packs_list() -> None:
    """List the packs in ROUNDTABLE_PACKS_DIR (default: prompts/) with their questions."""
    from bot.core.packs import check_pack, pack_files

    folder = _settings().packs_dir
    files = pack_files(folder)
    if not files:
        fail(f"ROUNDTABLE_PACKS_DIR: no pack files (*.yaml) in {folder}")
    broken = False
    for path in files:
        pack, problems = check_pack(path)
        if pack is None:
            typer.echo(f"{path.stem}  (invalid: {counted(len(problems), 'problem')}; see "
                       f"`roundtable packs validate`) {problems[0]}")
            broken = True
            continue
        kinds = ", ".join(f"{p.id} ({p.kind})" for p in pack.prompts)
        typer.echo(f"{pack.id}  {pack.title}  [{pack.workshop_date}]\n    {kinds}")
    if broken:
        raise typer.Exit(1)


@packs_app.command("validate")
def packs_validate(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Pack files or folders of them (default: ROUNDTABLE_PACKS_DIR, else prompts/).")
    ] = None,
) -> None:
    """Check packs: every problem of every file, each as file:line: field: problem (exit
    status 1 if there is any)."""
    from bot.core.packs import PackError, check_pack, pack_paths

    problems = 0
    for found in pack_paths(paths or [_settings().packs_dir]):
        if isinstance(found, PackError):
            typer.echo(str(found), err=True)
            problems += 1
            continue
        pack, errors = check_pack(found)
        for error in errors:
            typer.echo(str(error), err=True)
        problems += len(errors)
        if pack is not None:
            typer.echo(f"{found}: ok ({pack.id}, {counted(len(pack.prompts), 'prompt')})")
    if problems:
        raise typer.Exit(1)


@round_app.command("start")
def round_start(
    pack: Annotated[str, typer.Argument(help="Pack id (or path to a pack file).")],
    to: Annotated[str, typer.Option(
        help="Comma-separated Slack ids to ask: users (U…), channels (C…, their members) or "
             "user groups (S…). With SLACK_BOT_TOKEN set, names and time zones come from "
             "Slack; without it, only user ids, messaged in ROUNDTABLE_TIMEZONE's hours.")],
    digest: Annotated[str | None, typer.Option(
        help="Channel id for the digests (the only place they are posted).")] = None,
    closes: Annotated[str | None, typer.Option(help="14d or 2026-12-18.")] = None,
    mode: Annotated[Mode | None, typer.Option(
        help="How quotes are attributed: named (name and role), by-role (role and "
             "organisation, groups under three pooled), anonymous (nothing). Default: "
             "by-role.")] = None,
    anonymous: Annotated[bool, typer.Option(help="Same as --mode anonymous.")] = False,
    owner: Annotated[str | None, typer.Option(
        help="The facilitator's user id who owns the round (acts on it from Slack); "
             "default: nobody but the admins and the command line.")] = None,
    digest_cron: Annotated[str | None, typer.Option(
        help="When digests are posted: cron, 5 fields or 6 with seconds first, weekday 5 or "
             "fri for Friday (default: Fridays 12:00, ROUNDTABLE_TIMEZONE).")] = None,
    review: Annotated[bool | None, typer.Option(
        "--review/--no-review", help="Whether scheduled digests wait for a facilitator's "
        "approval (default: they do when the round has a digest channel).")] = None,
) -> None:
    """Start a round: the running service (`roundtable serve`) sends each person the first
    question in a direct message, in their working hours."""
    from datetime import UTC, datetime

    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.app.health import unsent_warning
    from bot.core.errors import RoundtableError
    from bot.core.people import Audience
    from bot.core.rounds import mode_of
    from bot.slack.app import USER_ID

    # every check of what was typed comes before the database is opened: a mistake
    # changes nothing, and is said even when the database cannot be reached
    if closes is not None and not closes.strip():
        fail("--closes: give a number of days like 14d or a date like 2026-12-18")
    settings = _settings()
    try:  # the pack first, as in chat: a mistyped one is said before anything else
        read = facilitation.startable_pack(settings, OPERATOR, pack)
    except RoundtableError as exc:
        fail(str(exc))
    if anonymous and mode not in (None, Mode.anonymous):
        fail(f"--anonymous is --mode anonymous: give one of them, not --mode {mode.value} as "
             "well")
    if owner is not None:
        given, owner = owner, owner.strip().lstrip("@")
        if not USER_ID.fullmatch(owner):
            fail(f"--owner: {given!r} is not a Slack user id (like U0123ABCD)")
    ids = [i.strip().lstrip("#@") for i in to.split(",") if i.strip()]
    if not ids:
        fail("--to names nobody")
    audience = Audience(channels=tuple(i for i in ids if i[:1] in {"C", "G"}),
                        groups=tuple(i for i in ids if i[:1] == "S"),
                        users=tuple(i for i in ids if i[:1] not in {"C", "G", "S"}))
    request = facilitation.StartRequest(
        pack, audience, _channel(digest), closes,
        mode_of("anonymous" if anonymous else (mode or Mode.by_role).value), digest_cron,
        owner, review)
    try:
        facilitation.ready_to_start(settings, OPERATOR, request, read, datetime.now(UTC))
    except RoundtableError as exc:
        fail(str(exc))
    application = _application()
    try:
        started = facilitation.start(application, OPERATOR, request, platform="slack",
                                     pack=read)
    except RoundtableError as exc:
        fail(str(exc))
    invited = counted(started.invited, "person", "people")
    typer.echo(f"Round {started.round_id} started for {invited}.")
    if started.closes:
        typer.echo(f"It closes {started.closes}.")
    if started.channel_problem:
        typer.echo(started.channel_problem)
    if started.stopped:
        typer.echo(f"Left out, as they said stop: {', '.join(started.stopped)}.")
    unsent = unsent_warning(application)
    if unsent is not None:
        typer.echo(unsent.plain)
    _note_close_digests(digest_cron, settings.timezone)


def _note_close_digests(cron: str | None, zone: str) -> None:
    """The command line takes a schedule chat would refuse as too frequent (a test of the
    scheduler, a demo), and says so on stderr, in case it was a slip."""
    from datetime import UTC, datetime

    from bot.scheduling.timing import too_close

    close = too_close(cron, zone, datetime.now(UTC)) if cron else None
    if close is not None:
        typer.echo(f"roundtable: note: {close}; taken, as the command line takes any schedule "
                   "(chat refuses one more often than hourly)", err=True)


CHANNEL_ID = r"[CG][A-Z0-9]{2,}"


def _channel(value: str | None) -> str | None:
    """A Slack channel id given as --digest (a leading # is fine); "none" is "" (no channel)."""
    import re

    if value is None:
        return None
    if value.strip().lower() == "none":
        return ""
    channel = value.strip().lstrip("#")
    if not re.fullmatch(CHANNEL_ID, channel):
        fail(f"--digest: {value!r} is not a Slack channel id (C…): in Slack, open the "
             "channel's name → About; the id is at the bottom")
    return channel


@round_app.command("status")
def round_status(
    round_id: Annotated[
        int | None, typer.Argument(help="Round id (default: all open rounds).")
    ] = None,
    who: Annotated[bool, typer.Option(
        "--who", help="Who has not answered yet: names in a named round, counts in others.")
    ] = False,
) -> None:
    """Per round: delivered, pending and failed (with why), answered, reminders, next digest."""
    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError

    try:
        typer.echo(facilitation.status(_application(), OPERATOR, round_id, who=who).plain)
    except RoundtableError as exc:
        fail(str(exc))


@round_app.command("list")
def round_list(
    every: Annotated[bool, typer.Option("--all", help="Closed rounds too.")] = False,
) -> None:
    """The open rounds (or every round), newest first: pack, state, who answered, replies
    (every one kept; a digest's answers and votes leave out the replies it sets aside and the
    comments on votes), owner, digest channel, closing date."""
    from zoneinfo import ZoneInfo

    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError

    application = _application()
    try:
        found = facilitation.rounds(application, OPERATOR, include_closed=every)
    except RoundtableError as exc:
        fail(str(exc))
    if not found:
        typer.echo("No rounds." if every else "No open rounds (--all shows closed ones).")
        return
    zone = ZoneInfo(application.settings.timezone)

    def when(moment: datetime | None) -> str:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}" if moment else "-"

    table = [("round", "pack", "state", "answered", "replies", "owner", "digest",
              "closes")] + [
        (str(r.round_id), r.pack_id, r.status + ("" if r.anonymity == "named"
                                                  else f" ({typed_mode(r.anonymity)})"),
         f"{r.answered_any}/{r.invited}", str(r.replies), r.owner or "-",
         r.digest_channel or "-", when(r.closed_at if r.status == "closed" else r.closes_at)
         + (" (closed)" if r.status == "closed" else ""))
        for r in found]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                             ).rstrip())


@round_app.command("set")
def round_set(
    round_id: Annotated[int, typer.Argument(help="Round id.")],
    digest: Annotated[str | None, typer.Option(
        help="Channel id for the digests (C…); none: no digests.")] = None,
    closes: Annotated[str | None, typer.Option(
        help="Closing date: 14d or 2026-12-18; never: no closing date.")] = None,
    digest_cron: Annotated[str | None, typer.Option(
        help="When digests are posted: cron, 5 fields or 6 with seconds first, weekday 5 or "
             "fri for Friday; default sets it back to weekly, Fridays 12:00.")] = None,
    review: Annotated[str | None, typer.Option(
        metavar="review|post", help="review: each scheduled digest waits for a "
        "facilitator's approval; post: digests are posted as built.")] = None,
    unreviewed: Annotated[str | None, typer.Option(
        metavar="post|wait", help="A digest nobody approved by its deadline: post it as "
        "built, or keep it waiting.")] = None,
    review_hours: Annotated[int | None, typer.Option(
        help="Hours a digest waits for approval (1 to 336).")] = None,
) -> None:
    """Change a round's digest channel, digest schedule, closing date, or how its digests
    are reviewed. A closed round given a digest channel posts its final digest there now."""
    from bot.app import facilitation
    from bot.app import review as reviewing
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError

    cron = None if digest_cron is None else ("" if digest_cron.lower() == "default"
                                             else digest_cron)
    if closes is not None and not closes.strip():
        fail("--closes: give a number of days like 14d, a date like 2026-12-18, or never")
    chosen = facilitation.RoundSettings(_channel(digest), closes, cron)
    wants_review = review is not None or unreviewed is not None or review_hours is not None
    try:
        application = _application()
        if wants_review:
            typer.echo(reviewing.set_review(application, OPERATOR, round_id, review,
                                            unreviewed, review_hours).plain)
        if not chosen.empty or not wants_review:
            typer.echo(facilitation.set_round(application, OPERATOR, round_id, chosen).plain)
    except RoundtableError as exc:
        fail(str(exc))
    _note_close_digests(cron, application.settings.timezone)


@round_app.command("reopen")
def round_reopen(
    round_id: Annotated[int, typer.Argument(help="Round id.")],
    closes: Annotated[str | None, typer.Option(
        help="A new closing date: 14d or 2026-12-18 (one already past is dropped).")] = None,
) -> None:
    """Take answers in a closed round again; questions not yet sent go out."""
    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError

    try:
        typer.echo(facilitation.reopen(_application(), OPERATOR, round_id, closes).plain)
    except RoundtableError as exc:
        fail(str(exc))


@round_app.command("delete")
def round_delete(
    round_id: Annotated[int, typer.Argument(help="Round id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask first.")] = False,
) -> None:
    """Delete a round and everything Roundtable holds of it (answers, digests, deliveries,
    and the people in no other round); asks first."""
    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError

    application = _application()
    try:
        what = facilitation.deletion(application, OPERATOR, round_id)
        typer.echo(facilitation.deletion_said(what).plain)
        if not yes and not typer.confirm(f"Delete round {round_id}?", default=False,
                                         err=True):
            typer.echo("Nothing was deleted.")
            return
        typer.echo(facilitation.delete(application, OPERATOR, round_id).plain)
    except RoundtableError as exc:
        fail(str(exc))
    except typer.Abort:
        fail("no answer, so nothing was deleted (--yes deletes without asking)")


app.command("status", help="How the open rounds (or one) are going: delivered, pending and "
            "failed, who answered, reminders, the next digest (as `roundtable round status`).")(
    round_status)


@round_app.command("close")
def round_close(round_id: Annotated[int, typer.Argument(help="Round id.")]) -> None:
    """Close a round: no more answers are taken; its final digest is posted to its channel."""
    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError

    try:
        closed = facilitation.close(_application(), OPERATOR, round_id)
    except RoundtableError as exc:
        fail(str(exc))
    typer.echo(f"Round {round_id} closed.")
    if closed.digest is not None:
        typer.echo(closed.digest.plain)


@inbox_app.command("list")
def inbox_list() -> None:
    """Messages set aside after failing three times: when, which event, the error."""
    from bot.core.inbox import set_aside

    with _database().inbox_sessions() as session:
        events = set_aside(session)
        for event in events:
            typer.echo(f"{event.id}\t{event.received_at:%Y-%m-%d %H:%M}\t{event.platform}\t"
                       f"{event.event_id}\t{(event.last_error or '').splitlines()[0][:120]}")
        if not events:
            typer.echo("Nothing set aside.")


@inbox_app.command("retry")
def inbox_retry() -> None:
    """Try the set-aside messages again (once the cause is fixed); a running server takes
    them within a few seconds."""
    from bot.core.inbox import retry_set_aside
    from storage.db import transaction

    with transaction(_database().inbox_sessions) as session:
        count = retry_set_aside(session)
    typer.echo(f"{counted(count, 'message')} will be tried again." if count
               else "Nothing is set aside, so there is nothing to try again.")


@app.command("import-replies")
def import_replies(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV with columns id,prompt_id,participant,role,text.", exists=True, dir_okay=False
        ),
    ],
    round_id: Annotated[int | None, typer.Option("--round", help="Add to this round.")] = None,
    pack: Annotated[str | None, typer.Option(help="Create a new round of this pack.")] = None,
    mode: Annotated[Mode, typer.Option(
        help="With --pack: how the new round attributes quotes.")] = Mode.by_role,
) -> None:
    """Import answers (e.g. notes from the live workshop): every row, or none. A row whose id
    was imported before and whose text changed edits that answer (its earlier text kept),
    unless the row is one of the answer's earlier versions (an older file: the answer is kept
    as changed since); the rows of someone forgotten from the round are skipped. Says how
    many answers were added, updated, unchanged, kept and skipped."""
    from bot.core.audit import OPERATOR, record
    from bot.core.errors import RoundtableError
    from bot.core.imports import import_replies as run_import
    from bot.core.packs import PackError, find_pack
    from bot.core.ports import utcnow
    from bot.core.rounds import mode_of
    from storage.db import transaction

    if (round_id is None) == (pack is None):
        fail("give exactly one of --round ROUND or --pack PACK")
    from bot.terminal import working

    database = _database()
    try:
        chosen = find_pack(pack, _settings().packs_dir) if pack else None
        with working(f"Importing {file.name}", total=0) as advance, \
                transaction(database.sessions) as session:
            result = run_import(session, file, utcnow(), round_id=round_id, pack=chosen,
                                started_by="import", anonymity=mode_of(mode.value),
                                progress=advance)
            record(session, utcnow(), OPERATOR, "round.import", round_id=result.round_id,
                   detail=f"{result.summary()} from {file.name}")
    except (PackError, RoundtableError) as exc:
        fail(f"{exc}\nnothing was imported")
    typer.echo(f"imported {file.name}: {result.summary()}")
    if pack:
        typer.echo(str(result.round_id))


def _digest_view(round_id: int, what: str | None, application: Roundtable | None = None
                 ) -> DigestView:
    """Build a round's digest now (audited as `what`; None: the caller records it once
    done), with the optional summariser when ROUNDTABLE_LLM_URL is set."""
    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError
    from bot.terminal import working

    with working(f"Finding the themes of round {round_id}"):
        try:
            return facilitation.digest_view(application or _application(), OPERATOR,
                                            round_id, what)
        except RoundtableError as exc:
            fail(str(exc))


@digest_app.callback(invoke_without_command=True)
def digest(
    ctx: typer.Context,
    round_id: Annotated[int | None, typer.Option("--round", help="Round id.")] = None,
    format: Annotated[DigestFormat, typer.Option(help="Output format.")] = DigestFormat.text,
    post: Annotated[
        bool, typer.Option("--post", help="Post it to the round's digest channel (in Slack, "
                                      "Teams or both, as the round has them).")
    ] = False,
) -> None:
    """The digest of a round, now: what changed since the last one, who took part, themes
    with quotes, and votes. `roundtable digest review ROUND` reviews one before it posts."""
    if ctx.invoked_subcommand is not None:
        return
    if round_id is None:
        fail("--round: give the round's id (roundtable digest --round 3), or review a digest "
             "with `roundtable digest review ROUND`")
    if post:
        from bot.app import facilitation
        from bot.app.actors import OPERATOR
        from bot.config import ConfigError
        from bot.core.errors import RoundtableError

        try:  # the round is checked, then the platform's settings, before the digest is built
            from bot.terminal import working

            application = _application()
            with working(f"Building and posting the digest of round {round_id}"):
                said = facilitation.digest(application, OPERATOR, round_id,
                                           period=f"posted-{_now().isoformat()}")
        except (ConfigError, RoundtableError) as exc:
            fail(str(exc))
        typer.echo(said.plain)
        return
    view = _digest_view(round_id, f"digest.show ({format.value})")
    if format is DigestFormat.json:
        typer.echo(json.dumps(view.to_json(), indent=2, ensure_ascii=False))
    elif format is DigestFormat.blocks:
        from bot.slack.digest_blocks import digest_messages

        messages = digest_messages(view, charts=False)
        payload = [{"text": m.text, "blocks": m.blocks} for m in messages]
        typer.echo(json.dumps(payload, indent=2, ensure_ascii=False))
    elif format is DigestFormat.md:
        from bot.core.digest.render_md import render_md

        typer.echo(render_md(view), nl=False)
    else:
        from bot.core.digest.render_text import render_text

        typer.echo(render_text(view), nl=False)


@digest_app.command("review")
def digest_review(
    round_id: Annotated[int, typer.Argument(help="Round id.")],
    rename: Annotated[tuple[str, str] | None, typer.Option(
        metavar="THEME TITLE", help="Rename a theme: done-well/2 \"A title\".")] = None,
    merge: Annotated[tuple[str, str] | None, typer.Option(
        metavar="THEME INTO", help="Merge a theme into another of its question, which keeps "
                                   "its title: done-well/3 done-well/1.")] = None,
    move: Annotated[tuple[str, str] | None, typer.Option(
        metavar="ANSWER TO", help="Move an answer (its id) to a theme of its question "
                                  "(done-well/2) or to other.")] = None,
    new_theme: Annotated[tuple[str, str] | None, typer.Option(
        metavar="ANSWERS TITLE", help="Take answers of one question (ids, comma-separated) out "
                                      "of their themes as a new theme: ans-a,ans-b \"A title\".")
    ] = None,
    hide: Annotated[list[str] | None, typer.Option(
        metavar="ANSWER", help="Never quote this answer (it still counts); repeatable.")
    ] = None,
    show: Annotated[list[str] | None, typer.Option(
        metavar="ANSWER", help="Quote again an answer hidden in review; repeatable.")
    ] = None,
    lead: Annotated[tuple[str, str] | None, typer.Option(
        metavar="QUESTION TEXT", help="A one-line lead for a question: best-support \"…\" "
                                      "(\"\" takes it away).")] = None,
    approve: Annotated[bool, typer.Option(
        "--approve", help="Post the digest waiting for review (once).")] = False,
) -> None:
    """The draft of a round's digest for a facilitator: its themes numbered and its quotes
    with their ids. Rename, merge, move an answer, make answers a new theme, hide a quote (or
    quote it again), write a question's lead (all at once, or none if one is refused), then
    --approve to post it. Edits carry over to the round's later digests."""
    from bot.app import review
    from bot.app.actors import OPERATOR
    from bot.core.digest.render_review import review_text
    from bot.core.errors import RoundtableError

    try:
        changes = _review_changes(rename, merge, move, new_theme, hide or [], show or [],
                                  lead)
        application = _application()
        if changes and approve:
            typer.echo(review.edit_and_approve(application, OPERATOR, round_id, changes).plain)
            return
        if changes:
            typer.echo(review.edit(application, OPERATOR, round_id, changes).plain)
        if approve:
            typer.echo(review.approve(application, OPERATOR, round_id).plain)
            return
        shown = review.reviewing(application, OPERATOR, round_id)
    except RoundtableError as exc:
        fail(str(exc))
    typer.echo(review_text(shown.view, shown.draft, shown.hidden_words,
                           application.settings.timezone), nl=False)


def _review_changes(rename: tuple[str, str] | None, merge: tuple[str, str] | None,
                    move: tuple[str, str] | None, new_theme: tuple[str, str] | None,
                    hide: list[str], show: list[str], lead: tuple[str, str] | None
                    ) -> list[Change]:
    from bot.app.review import Change, ThemeRef

    changes = []
    if rename:
        prompt, number = _theme_ref("--rename", rename[0])
        changes.append(Change("rename", prompt, theme=ThemeRef(number), text=rename[1]))
    if merge:
        prompt, number = _theme_ref("--merge", merge[0])
        other, into = _theme_ref("--merge", merge[1])
        if other != prompt:
            fail("--merge: both themes must be of the same question")
        changes.append(Change("merge", prompt, theme=ThemeRef(number), into=ThemeRef(into)))
    if move:
        prompt, to = "", None
        if move[1].strip().lower() != "other":
            prompt, number = _theme_ref("--move", move[1])
            to = ThemeRef(number)
        changes.append(Change("move", prompt, reply_id=move[0], to=to))
    if new_theme:
        answers = tuple(a.strip() for a in new_theme[0].split(",") if a.strip())
        if not answers:
            fail("--new-theme: name its answers by their ids, comma-separated")
        changes.append(Change("group", reply_ids=answers, text=new_theme[1]))
    changes += [Change("hide", reply_id=answer) for answer in hide]
    changes += [Change("show", reply_id=answer) for answer in show]
    if lead:
        changes.append(Change("lead", lead[0], text=lead[1]))
    return changes


def _theme_ref(option: str, ref: str) -> tuple[str, int]:
    """done-well/2 -> ("done-well", 2)."""
    prompt, _, number = ref.rpartition("/")
    if not number.isdigit() or (option != "--move" and not prompt):
        fail(f"{option}: {ref!r} is not a theme: write the question's id and the theme's "
             "number as the draft shows them, like done-well/2")
    return prompt, int(number)


@app.command("export")
def export(
    round_id: Annotated[int, typer.Option("--round", help="Round id.")],
    format: Annotated[ExportFormat, typer.Option(help="File format.")] = ExportFormat.docx,
    out: Annotated[
        Path | None,
        typer.Option(help="File to write (default: round-ID-synthesis.FORMAT here); a folder "
                          "not there yet is created."),
    ] = None,
) -> None:
    """Write the synthesis document of a round, laid out like the workshop's synthesis pack
    (md, docx, html), or every answer as CSV; prints the path of each file written, the
    document first (a Markdown export's charts follow), and says so when it made the folder."""
    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.digest.export import default_name, write_export

    application = _application()
    view = _digest_view(round_id, None, application)
    path = out or Path.cwd() / default_name(round_id, format.value)
    from bot.terminal import working

    created = _missing_folder(path)
    try:
        with working(f"Writing {path.name}"):
            written = write_export(view, format.value, path)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    facilitation.record_view(application, OPERATOR, round_id,
                             f"round.export ({format.value})")
    _say_written(written, created)


def _missing_folder(path: Path) -> Path | None:
    """The outermost of `path`'s folders that is not there yet (writing `path` creates it)."""
    missing = None
    for folder in path.parents:
        if folder.exists():
            break
        missing = folder
    return missing


def _say_written(written: Sequence[Path], created: Path | None) -> None:
    """Each file written, one path a line on stdout (the document first, for scripts); the
    folder made for them, when there was none, said beside them on stderr."""
    if created is not None:
        typer.echo(f"Created the folder {created}", err=True)
    for path in written:
        typer.echo(str(path))


def _person(user: str, platform: Platform | HeldOn) -> tuple[str, str]:
    user = user.strip().lstrip("@")
    if not user:
        fail("name the person by their user id (U…)")
    return platform.value, user


def _resolved(application: Roundtable, platform: str, user_id: str) -> str:
    """The stored id of whom the operator names (an imported label: its one round's person)."""
    from bot.app import personal_data
    from bot.core.errors import RoundtableError

    try:
        return personal_data.resolve_person(application, platform, user_id)
    except RoundtableError as exc:
        fail(str(exc))


@participant_app.command("export")
def participant_export(
    user: Annotated[str, typer.Argument(
        help="Their user id (U…); imported: their label (p14), or p14@round3.")],
    out: Annotated[Path | None, typer.Option(
        help="File to write (default: roundtable-data-USER.json here); created 0600.")] = None,
    platform: Annotated[HeldOn, typer.Option(
        help="Their chat platform (import: imported from a CSV).")] = HeldOn.slack,
) -> None:
    """Everything held about one person, as JSON (a subject access request); prints the path."""
    from bot.app import personal_data
    from bot.app.actors import OPERATOR
    from storage.files import write_private

    on, user_id = _person(user, platform)
    application = _application()
    user_id = _resolved(application, on, user_id)
    data = personal_data.export_person(application, OPERATOR, on, user_id)
    if data is None:
        fail(f"Roundtable holds nothing about {user_id} on {on}")
    path = out or Path.cwd() / f"roundtable-data-{user_id}.json"
    created = _missing_folder(path)
    try:
        write_private(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    _say_written([path], created)


@participant_app.command("stop")
def participant_stop(
    user: Annotated[str, typer.Argument(help="Their user id (U…).")],
    platform: Annotated[Platform, typer.Option(help="Their chat platform.")] = Platform.slack,
) -> None:
    """Message this person no more (their answers are kept)."""
    from bot.app import participants
    from bot.app.actors import OPERATOR

    on, user_id = _person(user, platform)
    stopped = participants.stop_person(_application(), OPERATOR, on, user_id)
    if stopped is None:
        fail(f"Roundtable holds nothing about {user_id} on {on}")
    typer.echo(f"{user_id} had already stopped: they are not messaged." if stopped == "already"
               else f"{user_id} will not be messaged again.")


@participant_app.command("forget")
def participant_forget(
    user: Annotated[str, typer.Argument(
        help="Their user id (U…); imported: their label (p14), or p14@round3.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    platform: Annotated[HeldOn, typer.Option(
        help="Their chat platform (import: imported from a CSV).")] = HeldOn.slack,
) -> None:
    """Delete everything held about this person (as their forget-me does) and say what was
    done; the bot's messages that repeat their words are deleted or replaced where they were
    posted (Slack or Teams)."""
    from bot.app import personal_data
    from bot.app.actors import OPERATOR

    on, user_id = _person(user, platform)
    application = _application()
    user_id = _resolved(application, on, user_id)
    whom = personal_data.describe_person(on, user_id)
    try:
        sure = yes or typer.confirm(f"Delete everything Roundtable holds about {whom}? It "
                                    "cannot be undone")
    except typer.Abort:  # no answer (end of input)
        sure = False
    if not sure:
        fail("nothing was deleted (give --yes to skip the question)")
    if whom != user_id:
        typer.echo(f"Forgetting {whom}.")
    typer.echo(personal_data.forget(application, OPERATOR, on, user_id).plain)


@app.command("audit")
def audit_log(
    round_id: Annotated[int | None, typer.Option("--round", help="Only this round.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="The newest this many entries.")] = 200,
) -> None:
    """Who started, closed, posted, exported which round; who ran forget-me, my-data or a
    purge; facilitator changes; when (oldest first)."""
    from bot.core.audit import entries, line
    from bot.core.errors import NotFound
    from bot.core.rounds import get_round

    with _database().sessions() as session:
        found = entries(session, round_id, limit)
        if not found and round_id is not None:
            try:  # a deleted round's entries outlive it; one never started has none
                get_round(session, round_id)
            except NotFound as exc:
                fail(str(exc))
        for entry in found:
            typer.echo(line(entry))
    if not found:
        typer.echo("The audit log is empty." if round_id is None
                   else f"Nothing recorded for round {round_id}.")


@app.command("purge")
def purge() -> None:
    """Apply the retention period now (the schedule does it daily): delete the answers and
    digests of rounds closed more than ROUNDTABLE_RETENTION_DAYS ago, and older set-aside
    incoming messages."""
    from bot.core.audit import OPERATOR
    from bot.core.retention import apply_retention

    application = _application()
    days = application.settings.retention_days
    typer.echo(apply_retention(application.database, application.clock(), days, OPERATOR,
                               application.gateways,
                               admins_homes=application.admins_homes()).sentence(days))


@app.command("sbom")
def sbom(
    out: Annotated[Path | None, typer.Option(help="File to write (default: print it).")] = None,
) -> None:
    """A software bill of materials (CycloneDX 1.5 JSON) of this installation: Roundtable and
    every Python package installed beside it, with versions, licences and package URLs."""
    from bot.sbom import bill_of_materials

    text = json.dumps(bill_of_materials(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    typer.echo(str(out))


@app.command("demo")
def demo(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Where to keep the demo database (default: a new temporary folder)."
        ),
    ] = None,
) -> None:
    """The whole job with no Slack account: a simulated round of the sample workshop's
    questions, its digest, and its synthesis in Markdown and Word."""
    if folder is not None and folder.exists() and not folder.is_dir():
        fail(f"--dir: {folder} is a file; give a folder for the demo's database (it is "
             "created if missing)")
    from bot.demo import run_demo
    from bot.terminal import working

    try:
        with working("Running the demo round"):
            shown = run_demo(folder)
        typer.echo(shown, nl=False)
    except OSError as exc:
        fail(f"--dir: cannot use {folder or 'a temporary folder'}: {exc.strerror or exc}")


@app.command("serve")
def serve(
    socket: Annotated[
        bool, typer.Option("--socket", help="Use Socket Mode (no public URL).")
    ] = False,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Run no schedule here (digests, reminders, "
                           "closing rounds): run `roundtable scheduler` elsewhere.")
    ] = False,
) -> None:
    """Run the chat platforms set up: HTTP on PORT (Slack's POST /slack/events, Teams' POST
    /api/messages, GET /healthz), or Slack's Socket Mode.

    Unless --no-scheduler, the process also runs the schedule while it holds the database lease
    (one process at a time does; another takes over within ROUNDTABLE_LEASE_SECONDS (30 seconds
    unless set) if it dies).
    """
    from bot.app.processes import serve as run_server
    from bot.config import ConfigError
    from bot.core.errors import RoundtableError

    try:
        settings = _settings()
        settings.require_platform(socket=socket)
        run_server(settings, platforms, socket=socket, scheduler=not no_scheduler)
    except (ConfigError, RoundtableError) as exc:
        fail(str(exc))


@app.command("scheduler")
def scheduler() -> None:
    """Run only the schedule: digests, reminders, closing rounds and sending due messages."""
    from bot.app.processes import run_scheduler
    from bot.config import ConfigError
    from bot.core.errors import RoundtableError

    try:
        settings = _settings()
        settings.require_platform(receiving=False)
        run_scheduler(settings, platforms)
    except (ConfigError, RoundtableError) as exc:
        fail(str(exc))


@app.command("worker")
def worker() -> None:
    """Handle incoming answers stored by `roundtable serve` (and confirm them), so that the
    serving processes only store and acknowledge; they handle again when no worker runs."""
    from bot.app.processes import run_worker
    from bot.config import ConfigError
    from bot.core.errors import RoundtableError

    try:
        settings = _settings()
        settings.require_platform(receiving=False)
        run_worker(settings, platforms)
    except (ConfigError, RoundtableError) as exc:
        fail(str(exc))


@teams_app.command("package")
def teams_package(
    out: Annotated[Path, typer.Option(help="The zip to write.")] = Path("roundtable-teams.zip"),
    app_id: Annotated[str | None, typer.Option(
        "--app-id", help="The bot's Microsoft app id (default: TEAMS_APP_ID).")] = None,
    domain: Annotated[str | None, typer.Option(
        help="The public host name of `roundtable serve` (shown as the app's website).")] = None,
) -> None:
    """Build the Teams app package (manifest.json and icons, zipped) to upload to a tenant."""
    from bot.teams.package import PackageError, write_package

    chosen = app_id or _settings().teams_app_id
    if not chosen:
        fail("give --app-id or set TEAMS_APP_ID")
    try:
        written = write_package(out, chosen, domain)
    except PackageError as exc:
        fail(str(exc))
    typer.echo(str(written))


def main() -> None:
    """The console script: one line for an unexpected error unless --debug was given."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("roundtable: stopped", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last net: one line, the traceback on --debug
        if DEBUG or "--debug" in sys.argv[1:]:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        typer.echo(f"roundtable: unexpected error: {type(exc).__name__}"
                   + (f": {first}" if first else "") + " (run with --debug for the details)",
                   err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
    sys.exit(0)
