"""The privacy notice: what a round's first message tells each person about their words.

It says how this round attributes answers (its mode), where digests go, how long answers are
kept, who sees them, whether an AI service reads them, how to keep an answer from being
quoted, and the commands to stop, see or delete what is held. A deployment may replace the
middle paragraph (what is kept, who sees it) with its own words; the facts of the round
(mode, channel, AI service, commands) are always added by Roundtable, so they cannot go
stale or missing. The notice is built when the round starts and stored with it, so what each
person was told can be shown later.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.core.rounds import MODE_NAMES
from bot.core.said import Command, Place, QuoteButton, Said, Strong, said

TITLE = "How your answers are used"
DEFAULT_KEPT = (
    "Roundtable keeps what you write here (and the earlier wording of anything you edit), "
    "your name and time zone from your chat app, and when each question was sent to you, for "
    "{retention_days} days after the round closes; then they are deleted. The round's "
    "facilitators and Roundtable's administrators can read your answers; nobody else sees "
    "them except as quoted in a digest."
)
ATTRIBUTION = {
    "named": "with your name and role.",
    "role": "with your role (and organisation) but never your name. Roles and organisations "
            "shared by fewer than three people are never shown.",
    "anonymous": "with no name, role or organisation.",
}


@dataclass(frozen=True)
class Policy:
    """What a deployment says about answers (from its settings)."""

    retention_days: int
    ai_service: str | None = None
    """The URL of the AI service answers are sent to, if any (ROUNDTABLE_LLM_URL)."""
    kept: str | None = None
    """The deployment's own words for what is kept and who sees it ({retention_days} is
    filled in); None for Roundtable's default."""


def notice(policy: Policy, mode: str, digest_channel: str | None) -> Said:
    """The notice for a round of this mode posting digests to `digest_channel`."""
    where = (said("in digests posted to ", Place(digest_channel))
             if digest_channel else said("in digests the facilitators post to a channel"))
    kept = (policy.kept or DEFAULT_KEPT).replace("{retention_days}",
                                                 str(policy.retention_days)).strip()
    ai = (f"Themes, their titles and summaries are drafted with an AI service "
          f"({urlsplit(policy.ai_service).hostname or policy.ai_service}): the answers of "
          "this round are sent to it, except those you ask not to be quoted."
          if policy.ai_service else "Your answers are not sent to any AI service.")
    return said(
        Strong(TITLE), "\n",
        "This round is ", Strong(MODE_NAMES.get(mode, mode)), ": what you write may be quoted "
        "word for word ", where, " and in the facilitators' exports, ",
        ATTRIBUTION.get(mode, ""), "\n",
        kept, "\n", ai, "\n",
        "Write “don't quote me” in an answer", QuoteButton(), " and it is counted in its "
        "theme but never quoted.\n",
        Command("stop"), " stops the questions · ", Command("my-data"),
        " sends you everything held about you · ", Command("forget-me"),
        " deletes it.",
    )
