"""What the bot does with each activity: keep its conversation reference, then store an answer
in the inbox (before Teams is answered), run a command (commands.py: in the 1:1 chat, a `start`
that names no pack may be an answer, and goes to the inbox), or take a card's button
(actions.py; a draft digest's in review_forms.py).

Handlers run on the SDK's loop and hand their blocking work (the database, sending) to
threads. Answers written in the 1:1 chat are stored in the inbox before the HTTP answer (200),
under the activity's id, so an activity Teams delivers twice is handled once. Commands and
the welcome are answered at once and worked on by a few listener threads (chat.py), the answer
following as a message (Teams waits at most 15 seconds for the HTTP answer).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from microsoft_teams.api import InvokeResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.app.actors import Actor
from bot.app.inbox import InboxUnavailable
from bot.app.roundtable import Roundtable
from bot.core.incoming import to_payload
from bot.core.said import Code, said
from bot.teams import activities
from bot.teams.commands import command
from bot.teams.gateway import TeamsGateway
from bot.teams.listeners.actions import CardActions
from bot.teams.listeners.chat import Chat
from bot.teams.listeners.commands import HELP_LINE, Commands
from bot.teams.listeners.review_forms import ReviewForms
from bot.teams.references import PLATFORM, Conversations

log = logging.getLogger(__name__)
WELCOME_PERSONAL = said("Hello! I am Roundtable. When a facilitator starts a round for you, I "
                        "will ask its questions here, one at a time; just write your answers. "
                        "Write ", Code("help"), " to see what else I do.")
WELCOME_TEAM = said("Roundtable is here. Facilitators: mention me with ",
                    Code("start <pack> to team"), " to ask everyone in this team, or with ",
                    Code("form"), " for the start form. Digests are posted in the channel the "
                    "round was started from.")


class Listeners:
    """The Teams side of every use case: routes each activity to what handles it."""

    def __init__(self, app: Roundtable, gateway: TeamsGateway, conversations: Conversations
                 ) -> None:
        self.app, self.gateway, self.conversations = app, gateway, conversations
        self.chat = Chat(gateway)
        self.forms = ReviewForms(app, self.chat)
        self.actions = CardActions(app, self.chat, self.forms)
        self.commands = Commands(app, self.chat, conversations)

    async def on_activity(self, ctx: Any) -> Any:
        """The SDK's handler for every activity (authenticated by then)."""
        body = ctx.activity.model_dump(by_alias=True, exclude_none=True, mode="json")
        return await asyncio.to_thread(self.handle, body)

    def handle(self, body: dict[str, Any]) -> InvokeResponse[Any] | None:
        activity = activities.parse(body)
        if activity is None:
            return InvokeResponse(status=400)
        if activities.is_from_bot(activity):
            # another bot (or an app's own message) is nobody to act for: the Entra object
            # id it may carry is not a person's to claim, nor its 28: id a way to reach them
            return None
        reference = activities.reference(activity)
        if reference is None:
            return None
        try:
            self.conversations.remember(reference, activities.member(activity),
                                        activities.timezone_of(activity))
        except SQLAlchemyError as exc:
            # the database is away: an answer still goes to the inbox (or its spool); the
            # reference was stored when the conversation began, and is refreshed next time
            log.warning("could not store a conversation reference: %s", exc.__class__.__name__)
        actor = Actor(PLATFORM, str(activity.from_.aadObjectId)) if (
            activity.from_ and activity.from_.aadObjectId) else None
        if activities.bot_added(activity, self.gateway.bot_id):
            welcome = WELCOME_PERSONAL if reference.kind == "personal" else WELCOME_TEAM
            self.chat.later(self.chat.say, reference.key, welcome)
            return None
        action = activities.card_action(activity)
        if action is not None:
            if actor is None:  # someone not signed in: an anonymous guest in a meeting
                return self.actions.by_nobody(action)
            return self.actions.pressed(activity, action, actor, reference)
        if activity.type == "message" and actor is not None:
            found = command(activities.words(activity),
                            answers_here=reference.kind == "personal")
            if found is not None and self.commands.taken(found, actor, reference):
                self.chat.later(self.commands.run, found, actor, reference,
                                told_in=reference.key)
                return None
            if reference.kind != "personal":
                self.chat.later(self.chat.say, reference.key, said(
                    "Answers go in your 1:1 chat with me. Here I take commands: ", HELP_LINE))
                return None
        incoming = activities.incoming(activity, reference.key)
        if incoming is None:
            return None
        try:
            self.app.inbox.capture(PLATFORM, activities.event_id(activity), to_payload(incoming))
        except InboxUnavailable as exc:
            log.error("could not store an activity; Teams will send it again: %s", exc)
            return InvokeResponse(status=503)
        return None

    def close(self) -> None:
        self.forms.close()
        self.chat.close()
