"""The likeliest first mistakes end in one line naming the setting and the fix, with a non-zero
exit status and no traceback, at the real command line (issue 15, acceptance 2)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.helpers import run_cli
from tests.slack_api_stub import SlackStub


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with a migrated default SQLite database."""
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    return tmp_path


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    yield slack
    slack.stop()


def one_line(result_stderr: str) -> str:
    lines = result_stderr.strip().splitlines()
    assert len(lines) == 1, result_stderr
    assert "Traceback" not in result_stderr
    return lines[0]


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("command", ["serve", "worker", "scheduler"])
def test_a_wrong_slack_token_is_one_line_naming_it(
        workdir: Path, stub: SlackStub, command: str) -> None:
    stub.fail_next("auth.test", status=200, error="invalid_auth")
    env = {"SLACK_BOT_TOKEN": "xoxb-wrong", "SLACK_API_URL": stub.base_url}
    if command == "serve":  # only what takes Slack's requests needs the signing secret
        env["SLACK_SIGNING_SECRET"] = "s"
    result = run_cli(command, cwd=workdir, env=env)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "roundtable: SLACK_BOT_TOKEN was refused by Slack (invalid_auth): check the Bot User "
        "OAuth Token (xoxb-…) on the app's OAuth & Permissions page, and reinstall the app if "
        "it was revoked")


@pytest.mark.parametrize("socket", [False, True])
def test_serve_with_bolts_oauth_variables_in_its_environment_is_one_line_naming_them(
        workdir: Path, stub: SlackStub, socket: bool) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1",
           "SLACK_API_URL": stub.base_url, "PORT": str(closed_port()),
           "SLACK_CLIENT_ID": "1234.5678", "SLACK_CLIENT_SECRET": "c0ffee"}
    stub.socket_url = f"ws://127.0.0.1:{closed_port()}/"  # never reached: refused before
    result = run_cli("serve", "--no-scheduler", *(["--socket"] if socket else []),
                     cwd=workdir, env=env, timeout=60)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "roundtable: SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set in this process's "
        "environment, which makes Slack's Bolt use its OAuth flow for many workspaces and "
        "ignore SLACK_BOT_TOKEN: Roundtable uses one workspace's bot token, so unset them for "
        "roundtable serve")
    assert stub.calls_to("chat.postMessage", ok_only=False) == []


def test_a_wrong_app_token_for_socket_mode_is_one_line_naming_it(
        workdir: Path, stub: SlackStub) -> None:
    stub.fail_next("apps.connections.open", status=200, error="invalid_auth")
    result = run_cli("serve", "--socket", cwd=workdir, env={
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-wrong",
        "SLACK_API_URL": stub.base_url})
    assert result.returncode == 1
    assert one_line(result.stderr).startswith(
        "roundtable: SLACK_APP_TOKEN was refused by Slack (invalid_auth): check the app-level "
        "token")


def test_slack_out_of_reach_is_one_line_pointing_at_the_proxy_setting(workdir: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/api/"
    for command in ("serve",):
        result = run_cli(command, cwd=workdir, env={
            "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": url})
        assert result.returncode == 1
        assert one_line(result.stderr) == (
            f"roundtable: Slack cannot be reached at {url} (Connection refused): check this "
            "server's network, or set HTTPS_PROXY to the web proxy it must use")


def test_a_mysql_database_url_is_one_line_saying_what_is_supported(tmp_path: Path) -> None:
    result = run_cli("db", "upgrade", cwd=tmp_path,
                     env={"DATABASE_URL": "mysql://roundtable@db.example.nhs.uk/roundtable"})
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "roundtable: DATABASE_URL: mysql is not supported: Roundtable runs on SQLite "
        "(sqlite:///roundtable.db) or PostgreSQL (postgresql://user@host/db)")


def test_a_demo_folder_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    taken = tmp_path / "notes.txt"
    taken.write_text("mine\n")
    result = run_cli("demo", "--dir", str(taken), cwd=tmp_path)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"roundtable: --dir: {taken} is a file; give a folder for the demo's database (it is "
        "created if missing)")
    assert taken.read_text() == "mine\n"


def test_other_settings_of_this_issue_are_checked_in_one_line(tmp_path: Path) -> None:
    cases = {
        "ROUNDTABLE_PACKS_DIR": (str(tmp_path / "nowhere"), "is not a folder"),
        "HTTPS_PROXY": ("proxy.example.nhs.uk:8080", "expected the proxy's URL"),
        "ROUNDTABLE_LOG_FORMAT": ("xml", "expected one of text, json"),
        "ROUNDTABLE_LOG_LEVEL": ("loud", "expected one of DEBUG, INFO, WARNING, ERROR"),
        "ROUNDTABLE_HEALTH_PORT": ("0", "should be 1 or more, not 0"),
        "PORT": ("abc", "should be a whole number, not 'abc'"),
        "TEAMS_TENANT_ID": ("nhs.net", "expected the Directory (tenant) ID, a GUID"),
    }
    for name, (value, problem) in cases.items():
        with pytest.raises(ConfigError) as refused:
            load_settings(**{name: value})
        assert str(refused.value).startswith(f"{name}: ") and problem in str(refused.value)
        assert "\n" not in str(refused.value)


def test_it_prints_its_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("roundtable ") and result.stdout.strip()[-1].isdigit()


def test_an_unexpected_error_is_one_line_and_its_traceback_comes_with_debug(
        workdir: Path) -> None:
    with sqlite3.connect(workdir / "roundtable.db") as damaged:
        damaged.execute("DROP TABLE rounds")  # a database someone edited by hand
    result = run_cli("round", "status", cwd=workdir)
    assert result.returncode == 1
    assert one_line(result.stderr).startswith("roundtable: unexpected error: OperationalError: ")
    assert result.stderr.strip().endswith("(run with --debug for the details)")
    debug = run_cli("--debug", "round", "status", cwd=workdir)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
    assert "no such table: rounds" in debug.stderr


def test_a_slack_refusal_of_a_digest_says_what_to_do(workdir: Path, stub: SlackStub) -> None:
    stub.add_user("UAMARA", "Amara")
    stub.add_channel("CLEADS", [])
    slack = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
             "SLACK_API_URL": stub.base_url}
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "UAMARA", "--digest",
                      "CLEADS", cwd=workdir, env=slack)
    assert started.returncode == 0, started.stderr
    stub.fail_next("chat.postMessage", status=200, error="not_in_channel")
    slack.pop("SLACK_SIGNING_SECRET")  # posting needs no secret: nothing is received
    refused = run_cli("digest", "--round", "1", "--post", cwd=workdir, env=slack)
    assert refused.returncode == 1
    assert one_line(refused.stderr) == (
        "roundtable: I could not post the digest of round 1 in #CLEADS: not_in_channel. Invite "
        "@Roundtable to the channel (type /invite @Roundtable there).")


@pytest.mark.parametrize(("command", "setting"), [
    ("serve", "PORT"), ("worker", "ROUNDTABLE_HEALTH_PORT"),
    ("scheduler", "ROUNDTABLE_HEALTH_PORT")])
def test_a_port_in_use_is_one_line_naming_its_setting_and_nothing_is_sent(
        workdir: Path, stub: SlackStub, command: str, setting: str) -> None:
    """The worker and the scheduler of docs/operations.md read one settings file: a health
    port set there is wanted by both, and the second must say so, not crash, and send
    nothing on its way out."""
    stub.add_user("U0001", "Ann")
    # In the settings file, as the doc's services have them.
    (workdir / ".env").write_text(
        f"SLACK_BOT_TOKEN=xoxb-test\nSLACK_SIGNING_SECRET=s\nSLACK_API_URL={stub.base_url}\n")
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0001",
                   cwd=workdir).returncode == 0
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli(command, cwd=workdir, env={setting: str(port)})
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        f"roundtable: {setting}: port {port} is in use already: another process listens "
        "there (give each process on this machine a port of its own)")
    assert stub.posted() == []


def test_a_database_newer_than_this_roundtable_is_one_line_and_upgrade_leaves_it(
        workdir: Path) -> None:
    """Code rolled back after `db upgrade` (docs/operations.md, Upgrades) must not be told
    to upgrade: the database belongs to the newer release, or to the backup before it."""
    with sqlite3.connect(workdir / "roundtable.db") as database:
        database.execute("UPDATE alembic_version SET version_num = '9999'")
    expected = (
        "roundtable: the database is at revision 9999, newer than this Roundtable knows: "
        "run the release that upgraded it, or restore the backup taken before the upgrade "
        "(docs/operations.md, Upgrades)")
    for command in (("round", "status"), ("db", "upgrade")):
        result = run_cli(*command, cwd=workdir)
        assert result.returncode == 1
        assert one_line(result.stderr) == expected, command
    with sqlite3.connect(workdir / "roundtable.db") as database:
        assert database.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("9999",)]


def test_the_pg_dump_hint_names_the_database_of_the_settings_file_not_its_password(
        tmp_path: Path) -> None:
    """The services' settings live in .env, not in the shell: a hint of `"$DATABASE_URL"`
    would hand pg_dump an empty string (and with it whatever database is local)."""
    (tmp_path / ".env").write_text("DATABASE_URL=postgresql://roundtable:s3cret-pw@"
                                   "db.example.nhs.uk:5432/roundtable?sslmode=require\n")
    target = tmp_path / "roundtable.dump"
    result = run_cli("db", "backup", str(target), cwd=tmp_path)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "roundtable: DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g. `pg_dump "
        f"--format=custom --file {target} "
        "\"postgresql://roundtable@db.example.nhs.uk:5432/roundtable?sslmode=require\"` (it asks "
        "for the password, or reads ~/.pgpass), and restore with pg_restore "
        "(docs/operations.md, Backups)")
    assert not target.exists()


def test_a_secret_of_only_spaces_is_one_line_saying_it_is_not_set(workdir: Path) -> None:
    """`SLACK_SIGNING_SECRET=" "` in .env was an unexpected error from Bolt."""
    (workdir / ".env").write_text('SLACK_BOT_TOKEN=xoxb-test\nSLACK_SIGNING_SECRET=" "\n')
    result = run_cli("serve", cwd=workdir)
    assert result.returncode == 1
    assert one_line(result.stderr) == (
        "roundtable: SLACK_SIGNING_SECRET is not set (see .env.example)")
