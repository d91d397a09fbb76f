"""Commands written to the bot, in its 1:1 chat or mentioning it in a channel: each runs on a
listener thread, and its answer follows as a message (or a card: help, the start form, the
open questions, the questions of forget-me and of deleting a round)."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from bot.app import access, facilitation, facilitators, participants, personal_data, review
from bot.app.actors import Actor
from bot.app.command_words import (
    DELETE_USAGE,
    Typed,
    help_said,
    parse_list,
    parse_reopen,
    parse_review,
    parse_status,
    required_round,
    round_number,
)
from bot.app.conversations import why_refused
from bot.app.roundtable import Roundtable
from bot.core.errors import RoundtableError
from bot.core.ports import DeliveryError
from bot.core.said import Code, DirectChat, Said, said
from bot.teams import cards
from bot.teams.commands import (
    HELP,
    HELP_TEXT,
    parse_invite,
    parse_set,
    parse_start,
    person_and_round,
)
from bot.teams.listeners.chat import Chat
from bot.teams.references import Conversations, Reference

log = logging.getLogger(__name__)
PRIVATE = frozenset({"stop", "my-data", "forget-me", "delete"})
"""Commands whose answer is for the person alone: written in a channel (where Teams has no
message only one person sees), it goes to their 1:1 chat, and the channel is told so."""
HELP_LINE = said("write ", Code("help"), " to see them.")


class Commands:
    """The Teams side of every command: translates, calls bot.app, answers."""

    def __init__(self, app: Roundtable, chat: Chat, conversations: Conversations) -> None:
        self.app, self.chat, self.gateway, self.conversations = (
            app, chat, chat.gateway, conversations)

    def taken(self, found: Typed, actor: Actor, where: Reference) -> bool:
        """Whether `found`, written by `actor` in `where`, is that command rather than words
        for the inbox. In the 1:1 chat, where answers are written too, `start <word> to …`
        naming no pack ("Start early to beat the queues") is words from someone who may not
        start rounds, or from a facilitator while a question waits for them: their answer,
        never refused and lost. Every other command is one: the others' shapes (a round
        number, an email) are no answer's, and someone who may not use them is told so."""
        if (where.kind != "personal" or found.name != "start" or len(found.args) < 3
                or self._pack(found.args[0], actor)):
            return True
        try:
            return (access.may_facilitate(self.app, actor)
                    and not participants.question_waits(self.app, actor, where.key))
        except SQLAlchemyError as exc:
            # the database is away: the inbox keeps the words (or its spool), as an answer's
            log.warning("could not tell a command from an answer: %s", exc.__class__.__name__)
            return False

    def _pack(self, pack_id: str, actor: Actor) -> bool:
        """Whether `actor` could start a round with the pack `pack_id` names."""
        try:
            facilitation.startable_pack(self.app.settings, actor, pack_id)
        except RoundtableError:
            return False
        return True

    def run(self, found: Typed, actor: Actor, where: Reference) -> None:
        """`found`, written by `actor` in `where`, done and answered."""
        name = found.name
        if name in access.FACILITATOR_ONLY and not access.may_facilitate(
                self.app, actor):
            self.chat.say(where.key, said("Sorry, ", access.refusal(name)))
            return
        try:
            key = self._answer_in(name, actor, where)
            if name == "help" and found.args:
                self.gateway.send_card(where.key, self.gateway.said_card(
                    help_said(HELP_TEXT, found.args)), "Roundtable help")
            elif name == "help":
                self._help(actor, where)
            elif name == "form":
                channels = [(c.key, c.name or "a channel") for c in self.conversations.channels()]
                in_team = where.kind == "channel"
                if in_team:
                    channels = [(where.key, where.name or "this channel"),
                                *(c for c in channels if c[0] != where.key)]
                self.gateway.send_card(where.key, cards.start_form(
                    facilitation.packs(self.app), channels, in_team=in_team), "Start a round")
            elif name == "questions":
                self.gateway.send_home(actor.user_id, participants.home(self.app, actor))
            elif name == "forget-me":
                self.gateway.send_card(key, cards.forget_card(
                    personal_data.forget_warning(self.app, actor),
                    personal_data.forget_asked()), "Forget me?")
            elif name == "delete":
                asked = facilitation.deletion_asked(self.app, actor,
                                                    required_round(found.args, DELETE_USAGE))
                self.gateway.send_card(key, cards.delete_card(asked.round_id, asked.asked,
                                                              asked.said),
                                       f"Delete round {asked.round_id}?")
            else:
                self.chat.say(key, self._said(found, actor, where))
            if key != where.key:
                self.chat.say(where.key, said("I have answered you in ", DirectChat(), "."))
        except RoundtableError as exc:
            self.chat.say(where.key, why_refused(exc))

    def _help(self, actor: Actor, where: Reference) -> None:
        """The list of commands (for facilitators, and in a channel); in the 1:1 chat, what
        a participant is told on every platform: the question waiting."""
        personal = where.kind == "personal"
        commands = not personal or access.may_facilitate(self.app, actor)
        if commands:
            self.gateway.send_card(where.key, self.gateway.said_card(HELP), "Roundtable help")
        told = participants.help_here(self.app, actor, where.key,
                                      beside_commands=commands) if personal else None
        if told is not None:
            self.chat.say(where.key, told)

    def _answer_in(self, name: str, actor: Actor, where: Reference) -> str:
        """The conversation a command's answer goes to: where it was written, or the
        person's 1:1 chat for a PRIVATE one written in a channel."""
        if where.kind == "personal" or name not in PRIVATE:
            return where.key
        try:
            return self.gateway.open_direct(actor.user_id)
        except DeliveryError as exc:
            raise RoundtableError(f"I could not open a 1:1 chat with you ({exc.reason}). "
                                  "Write the command to me there instead.") from exc

    def _said(self, found: Typed, actor: Actor, where: Reference) -> Said:
        """What a command answered in words did."""
        args, app = found.args, self.app
        here = where.key if where.kind == "channel" else None
        if found.name == "start":
            request, pack = parse_start(args, team=here, here=here,
                                        channels=self._channels(),
                                        known_pack=lambda p: facilitation.startable_pack(
                                            app.settings, actor, p))
            return facilitation.start(app, actor, request, pack=pack).said
        if found.name == "invite":
            return facilitation.invite(app, actor, *parse_invite(
                args, team=here, here=here, channels=self._channels()))
        if found.name == "set":
            return facilitation.set_round(app, actor, *parse_set(args, self._channels()))
        if found.name == "review":
            chosen = parse_review(args)
            if chosen.empty:
                return review.show(app, actor, chosen.round_id)
            return review.set_review(app, actor, chosen.round_id, chosen.mode,
                                     chosen.unreviewed, chosen.hours)
        if found.name == "list":
            return facilitation.list_rounds(app, actor, parse_list(args))
        if found.name == "status":
            round_id, who = parse_status(args)
            return facilitation.status(app, actor, round_id, who=who,
                                       names_shown=facilitation.NAMES_SHOWN)
        if found.name == "reopen":
            return facilitation.reopen(app, actor, *parse_reopen(args))
        if found.name == "remind":
            return facilitation.remind(app, actor, round_number(args))
        if found.name == "digest":
            return facilitation.digest(app, actor, round_number(args))
        if found.name == "close":
            return facilitation.close(app, actor, round_number(args)).said
        if found.name in ("add-facilitator", "remove-facilitator"):
            person, round_id = person_and_round(args)
            member = self.conversations.member(person)
            if member is None:
                raise RoundtableError("I don't know them yet: they must be in a team I am in, "
                                      "or write to me once")
            change = (facilitators.add_facilitator if found.name == "add-facilitator"
                      else facilitators.remove_facilitator)
            return change(app, actor, member.aad_object_id, round_id)
        if found.name == "stop":
            return participants.stop(app, actor)
        if found.name == "my-data":
            return personal_data.my_data(app, actor)
        return said(HELP_LINE)

    def _channels(self) -> dict[str, str]:
        """The channels the bot knows, by lower-cased name and by key."""
        known = self.conversations.channels()
        return {**{(c.name or "").lower(): c.key for c in known}, **{c.key: c.key for c in known}}
