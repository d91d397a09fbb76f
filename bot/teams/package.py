"""The Teams app package: manifest.json and two icons, zipped, to upload to a tenant
(`roundtable teams package`). The icons are drawn here, so the package needs no files."""

from __future__ import annotations

import json
import re
import struct
import zipfile
import zlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

SCHEMA = "https://developer.microsoft.com/json-schemas/teams/v1.19/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.19"
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
DEFAULT_DOMAIN = "roundtable.example.org"
NHS_BLUE = (0, 94, 184)
SET = ("set", "Then a round's number: where its digests go, when it closes, its schedule "
             "(facilitators)")
REVIEW = ("review", "Then a round's number: its draft digest, to edit and approve; or on/off "
                    "(facilitators)")
LIST = ("list", "Your open rounds; list all shows the closed ones too (facilitators)")
STATUS = ("status", "How the open rounds are going (facilitators)")
COMMANDS = {
    "personal": [("help", "What Roundtable does and its commands"),
                 ("questions", "Your open questions, to answer here"),
                 ("stop", "No more questions for you"),
                 ("forget-me", "Delete everything Roundtable holds about you (asks first)"),
                 ("form", "Start a round with a form (facilitators)"),
                 LIST, STATUS,
                 REVIEW, SET],
    "team": [("form", "Start a round for this team (facilitators)"),
             LIST, STATUS,
             ("digest", "Post the digest here now (facilitators)"),
             SET, REVIEW,
             ("help", "What Roundtable does and its commands")],
}
"""The commands Teams suggests, by scope: at most 10 a list, a title at most 32 characters,
a description at most 128 (the manifest schema's limits)."""


class PackageError(Exception):
    """The package cannot be built as asked (one line, naming what is wrong)."""


def manifest(app_id: str, domain: str | None = None) -> dict[str, Any]:
    if not GUID.match(app_id):
        raise PackageError(f"{app_id!r} is not an app id (a GUID, as Azure shows it)")
    host = (domain or DEFAULT_DOMAIN).removeprefix("https://").strip("/")
    site = f"https://{host}"
    try:
        release = version("roundtable")
    except PackageNotFoundError:  # running from a source tree
        release = "0.1.0"
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": release,
        "id": app_id,
        "developer": {"name": "Roundtable", "websiteUrl": site, "privacyUrl": f"{site}/privacy",
                      "termsOfUseUrl": f"{site}/terms"},
        "name": {"short": "Roundtable",
                 "full": "Roundtable: a workshop's questions for everyone"},
        "description": {
            "short": "A workshop's questions, asked of the people who could not be there.",
            "full": "Roundtable asks a workshop's questions in a 1:1 chat, one at a time, at a "
                    "sensible local time; stores every answer; and posts digests to the team: "
                    "who took part, themes with real quotes, and votes. Facilitators start "
                    "rounds from a chat with the bot or a team's channel.",
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#{:02X}{:02X}{:02X}".format(*NHS_BLUE),
        "bots": [{
            "botId": app_id, "scopes": ["personal", "team"], "supportsFiles": False,
            "isNotificationOnly": False,
            "commandLists": [{"scopes": [scope], "commands": [
                {"title": title, "description": text} for title, text in commands]}
                for scope, commands in COMMANDS.items()],
        }],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host],
    }


def write_package(path: Path, app_id: str, domain: str | None = None) -> Path:
    """Write the zip (manifest.json, color.png 192×192, outline.png 32×32 at its root)."""
    body = json.dumps(manifest(app_id, domain), indent=2, ensure_ascii=False)
    try:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.json", body)
            archive.writestr("color.png", color_icon())
            archive.writestr("outline.png", outline_icon())
    except OSError as exc:
        raise PackageError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def color_icon(size: int = 192) -> bytes:
    """A white round table on NHS blue."""
    def pixel(x: float, y: float) -> tuple[int, int, int, int]:
        r = ((x - size / 2) ** 2 + (y - size / 2) ** 2) ** 0.5
        white = size * 0.22 < r < size * 0.34 or r < size * 0.12
        return (255, 255, 255, 255) if white else (*NHS_BLUE, 255)
    return _png(size, pixel)


def outline_icon(size: int = 32) -> bytes:
    """The same table, white on transparent (Teams' outline icon)."""
    def pixel(x: float, y: float) -> tuple[int, int, int, int]:
        r = ((x + 0.5 - size / 2) ** 2 + (y + 0.5 - size / 2) ** 2) ** 0.5
        white = size * 0.25 < r < size * 0.42 or r < size * 0.12
        return (255, 255, 255, 255) if white else (0, 0, 0, 0)
    return _png(size, pixel)


def _png(size: int, pixel: Any) -> bytes:
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size))
                    for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))
