"""The `roundtable` command. Thin: parses arguments and calls into the core.

Heavy modules are imported inside the commands so that `roundtable --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from bot.app.processes import Served
    from bot.app.roundtable import Roundtable
    from bot.config import Settings
    from bot.core.digest.model import DigestView
    from storage.database import Database

app = typer.Typer(
    help="Roundtable: a workshop's questions for the people who could not attend.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database set-up.", no_args_is_help=True)
packs_app = typer.Typer(help="Prompt packs in prompts/.", no_args_is_help=True)
round_app = typer.Typer(help="Start, follow and close rounds.", no_args_is_help=True)
inbox_app = typer.Typer(help="Incoming messages that could not be handled.",
                        no_args_is_help=True)
teams_app = typer.Typer(help="Microsoft Teams.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(packs_app, name="packs")
app.add_typer(round_app, name="round")
app.add_typer(inbox_app, name="inbox")
app.add_typer(teams_app, name="teams")


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


def _now() -> datetime:
    from bot.core.ports import utcnow

    return utcnow()


def fail(message: str) -> NoReturn:
    typer.echo(f"roundtable: {message}", err=True)
    raise typer.Exit(1)


def _settings() -> Settings:
    from bot.config import ConfigError, load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        fail(str(exc))


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
    from storage.db import make_engine
    from storage.migrate import current_revision, upgrade

    engine = make_engine(_settings().database_url)
    try:
        upgrade(engine)
        typer.echo(f"database at revision {current_revision(engine)}")
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        fail(f"DATABASE_URL: upgrade failed ({exc.__class__.__name__}: {str(exc).splitlines()[0]})")


@packs_app.command("list")
def packs_list() -> None:
    """List the packs in prompts/ with their questions."""
    from bot.core.packs import PackError, load_pack, pack_files

    broken = False
    for path in pack_files():
        try:
            pack = load_pack(path)
        except PackError as exc:
            typer.echo(f"{path.stem}  (invalid) {exc}")
            broken = True
            continue
        kinds = ", ".join(f"{p.id} ({p.kind})" for p in pack.prompts)
        typer.echo(f"{pack.id}  {pack.title}  [{pack.workshop_date}]\n    {kinds}")
    if broken:
        raise typer.Exit(1)


@packs_app.command("validate")
def packs_validate(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Pack files (default: every pack in prompts/).")
    ] = None,
) -> None:
    """Check pack files; a problem is reported as file:line: field: problem (exit status 1)."""
    from bot.core.packs import PackError, load_pack, pack_files

    failed = False
    for path in paths or pack_files():
        try:
            pack = load_pack(path)
            typer.echo(f"{path}: ok ({pack.id}, {len(pack.prompts)} prompts)")
        except PackError as exc:
            typer.echo(str(exc), err=True)
            failed = True
    if failed:
        raise typer.Exit(1)


@round_app.command("start")
def round_start(
    pack: Annotated[str, typer.Argument(help="Pack id (or path to a pack file).")],
    to: Annotated[str, typer.Option(
        help="Comma-separated Slack ids to ask: users (U…), channels (C…, their members) or "
             "user groups (S…). With SLACK_BOT_TOKEN set, names and time zones come from "
             "Slack; without it, only user ids, messaged in ROUNDTABLE_TIMEZONE's hours.")],
    digest: Annotated[str | None, typer.Option(help="Channel id for the digests.")] = None,
    closes: Annotated[str | None, typer.Option(help="14d or 2026-12-18.")] = None,
    anonymous: Annotated[bool, typer.Option(help="Quote nobody by name or role.")] = False,
    digest_cron: Annotated[str | None, typer.Option(
        help="When digests are posted: cron, 5 fields or 6 with seconds first "
             "(default: Fridays 12:00, ROUNDTABLE_TIMEZONE).")] = None,
) -> None:
    """Start a round; its questions go out through the chat adapter's sender."""
    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError
    from bot.core.people import Audience

    ids = [i.strip().lstrip("#@") for i in to.split(",") if i.strip()]
    if not ids:
        fail("--to names nobody")
    audience = Audience(channels=tuple(i for i in ids if i[:1] in {"C", "G"}),
                        groups=tuple(i for i in ids if i[:1] == "S"),
                        users=tuple(i for i in ids if i[:1] not in {"C", "G", "S"}))
    request = facilitation.StartRequest(pack, audience, digest, closes, anonymous, digest_cron)
    try:
        started = facilitation.start(_application(), OPERATOR, request, platform="slack")
    except RoundtableError as exc:
        fail(str(exc))
    typer.echo(f"round {started.round_id} started for {started.invited} people")


@round_app.command("status")
def round_status(
    round_id: Annotated[
        int | None, typer.Argument(help="Round id (default: all open rounds).")
    ] = None,
) -> None:
    """Per round: delivered, pending and failed (with why), answered, reminders, next digest."""
    from bot.app import facilitation
    from bot.app.actors import OPERATOR
    from bot.core.errors import RoundtableError

    try:
        typer.echo(facilitation.status(_application(), OPERATOR, round_id).plain)
    except RoundtableError as exc:
        fail(str(exc))


app.command("status", help="Same as `roundtable round status`.")(round_status)


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
    typer.echo(f"round {round_id} closed")
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
            typer.echo("nothing set aside")


@inbox_app.command("retry")
def inbox_retry() -> None:
    """Try the set-aside messages again (once the cause is fixed); a running server takes
    them within a few seconds."""
    from bot.core.inbox import retry_set_aside
    from storage.db import transaction

    with transaction(_database().inbox_sessions) as session:
        count = retry_set_aside(session)
    typer.echo(f"{count} message(s) will be tried again")


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
) -> None:
    """Import answers (e.g. notes from the live workshop): every row, or none."""
    from bot.core.errors import RoundtableError
    from bot.core.imports import import_replies as run_import
    from bot.core.packs import PackError, find_pack
    from bot.core.ports import utcnow
    from storage.db import transaction

    if (round_id is None) == (pack is None):
        fail("give exactly one of --round ROUND or --pack PACK")
    database = _database()
    try:
        chosen = find_pack(pack) if pack else None
        with transaction(database.sessions) as session:
            result = run_import(
                session, file, utcnow(), round_id=round_id, pack=chosen, started_by="import"
            )
    except (PackError, RoundtableError) as exc:
        fail(f"{exc}\nnothing was imported")
    typer.echo(
        f"imported {result.imported} answers"
        + (f" ({result.already_present} were already there)" if result.already_present else "")
    )
    if pack:
        typer.echo(str(result.round_id))


def _digest_view(round_id: int) -> DigestView:
    """Build a round's digest now, with the optional summariser when ROUNDTABLE_LLM_URL is set."""
    from bot.core.digest.build import build_digest
    from bot.core.digest.embeddings import use_model
    from bot.core.digest.summariser import Endpoint, summariser
    from bot.core.errors import RoundtableError
    from bot.core.ports import utcnow
    from storage.db import reading

    settings = _settings()
    use_model(settings.embedding_model)
    rewrite = None
    if settings.llm_url:
        key = settings.llm_key.get_secret_value() if settings.llm_key else None
        rewrite = summariser(Endpoint(settings.llm_url, settings.llm_model or "", key))
    with reading(_database().sessions) as session:
        try:
            return build_digest(session, round_id, utcnow(), summariser=rewrite)
        except RoundtableError as exc:
            fail(str(exc))


@app.command("digest")
def digest(
    round_id: Annotated[int, typer.Option("--round", help="Round id.")],
    format: Annotated[DigestFormat, typer.Option(help="Output format.")] = DigestFormat.text,
    post: Annotated[
        bool, typer.Option("--post", help="Post it to the round's digest channel in Slack.")
    ] = False,
) -> None:
    """The digest of a round, now: what changed since the last one, who took part, themes
    with quotes, and votes."""
    if post:
        from bot.app import facilitation
        from bot.app.actors import OPERATOR
        from bot.config import ConfigError
        from bot.core.errors import RoundtableError

        try:
            _settings().require_platform()  # before the digest is built: fail fast
            said = facilitation.digest(_application(), OPERATOR, round_id,
                                       period=f"posted-{_now().isoformat()}")
        except (ConfigError, RoundtableError) as exc:
            fail(str(exc))
        typer.echo(said.plain)
        return
    view = _digest_view(round_id)
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


@app.command("export")
def export(
    round_id: Annotated[int, typer.Option("--round", help="Round id.")],
    format: Annotated[ExportFormat, typer.Option(help="File format.")] = ExportFormat.docx,
    out: Annotated[
        Path | None,
        typer.Option(help="File to write (default: round-<id>-synthesis.<format> here)."),
    ] = None,
) -> None:
    """Write the synthesis document of a round, laid out like the workshop's synthesis pack
    (md, docx, html), or every answer as CSV; prints the path written."""
    from bot.core.digest.export import default_name, write_export

    view = _digest_view(round_id)
    path = out or Path.cwd() / default_name(round_id, format.value)
    try:
        written = write_export(view, format.value, path)
    except OSError as exc:
        fail(f"cannot write {path}: {exc.strerror or exc}")
    for extra in written[1:]:
        typer.echo(f"chart: {extra}", err=True)
    typer.echo(str(written[0]))


@app.command("demo")
def demo(
    folder: Annotated[
        Path | None,
        typer.Option(
            "--dir", help="Where to keep the demo database (default: a new temporary folder)."
        ),
    ] = None,
) -> None:
    """The whole job with no Slack account: a simulated round of the seed pack and its digest."""
    from bot.demo import run_demo

    typer.echo(run_demo(folder), nl=False)


@app.command("serve")
def serve(
    socket: Annotated[
        bool, typer.Option("--socket", help="Use Socket Mode (no public URL).")
    ] = False,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Serve Slack only; run `roundtable "
                           "scheduler` elsewhere.")
    ] = False,
) -> None:
    """Run the chat platforms set up: HTTP on PORT (Slack's POST /slack/events, Teams' POST
    /api/messages, GET /healthz), or Slack's Socket Mode.

    Unless --no-scheduler, the process also runs the schedule while it holds the database lease
    (one process at a time does; another takes over within a minute if it dies).
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
        settings.require_platform()
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
        settings.require_platform()
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
    app()


if __name__ == "__main__":
    main()
    sys.exit(0)
