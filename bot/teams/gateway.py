"""The core's ChatGateway on Teams: Adaptive Cards sent through the Bot Connector.

Recovery without history: Teams lets a bot read no conversation history without Microsoft
Graph, so the gateway writes down the activity Teams created for each question and digest
part the moment the Bot Connector answers (bot.teams.references, `teams_sent`), and
`find_sent`/`find_digest` read that. What it cannot know is a post whose answer never came
(the process died, or the connection dropped, while Teams was taking it): that one is sent
again, so a question or a digest part arrives at least once, and twice only in that window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from microsoft_teams.api.activities.message import MessageActivityInput
from microsoft_teams.api.clients.conversation.params import CreateConversationParams
from microsoft_teams.api.models import Account, ConversationAccount
from sqlalchemy.orm import Session

from bot.core.bot_messages import card_form_closed
from bot.core.digest.model import DigestView, Draft
from bot.core.home import HomeView
from bot.core.incoming import Kept
from bot.core.ports import Attachment, DeliveryError, Posted, Sent, Where
from bot.core.questions import Question, Saved
from bot.core.said import Said
from bot.teams import cards, render, review_cards
from bot.teams.connector import Connector
from bot.teams.digest_cards import digest_cards
from bot.teams.references import (
    PLATFORM,
    Conversations,
    Reference,
    conversation_key,
    message_key,
)
from bot.teams.render import CARD_TYPE, MAX_CARD_BYTES, Element
from storage.reach import (
    DIGEST,
    FORM,
    FORM_CLOSING,
    FORM_NOTES,
    FORM_TOLD,
    MESSAGE,
    QUESTION,
    note_sent,
    unnote_sent,
)

log = logging.getLogger(__name__)
FILE_TEXT = 20_000
"""Characters of a file sent as text in one card (Teams takes about 28 KB a message)."""
GONE = ("http_404", "MessageNotFound", "NotFound")
"""What the Bot Connector says of a message that is not there any more."""
INTRO = "-"
"""The part name of a delivery's message that carried no question (never sent by Teams)."""


def activity(content: Element, summary: str = "") -> MessageActivityInput:
    """A message holding one card (its size checked first)."""
    if render.size(content) > MAX_CARD_BYTES:
        raise DeliveryError(f"card of {render.size(content)} bytes is over Teams' limit",
                            permanent=True)
    return MessageActivityInput.model_validate({
        "type": "message", "summary": summary[:200] or None,
        "attachments": [{"contentType": CARD_TYPE, "content": content}]})


class TeamsGateway:
    """Sends what the core asks for, as cards; people's words only ever as text runs."""

    platform = PLATFORM

    def __init__(self, connector: Connector, conversations: Conversations, app_id: str,
                 default_service_url: str, zone: str) -> None:
        self.connector, self.conversations = connector, conversations
        self.zone = zone
        """ROUNDTABLE_TIMEZONE: a draft's deadline is given in it."""
        self.bot_id = f"28:{app_id}"
        self.default_service_url = default_service_url

    # -- where to post --------------------------------------------------------------------

    def reference(self, key: str) -> Reference:
        found = self.conversations.get(key)
        if found is None:
            raise DeliveryError(f"no Teams conversation {key} is known here", permanent=True,
                                hint="Add Roundtable to the team (or chat) again, so Teams "
                                     "introduces it.")
        return found

    def open_direct(self, user_id: str) -> str:
        """The 1:1 chat with someone (by Entra object id), created if need be."""
        known = self.conversations.personal(user_id)
        if known is not None:
            return known.key
        member = self.conversations.member(user_id)
        if member is None:
            raise DeliveryError(
                "this person is in no team Roundtable knows", permanent=True,
                hint="Add Roundtable to a team they are in (or they add it for themselves).")
        params = CreateConversationParams.model_validate({
            "isGroup": False, "bot": {"id": self.bot_id},
            "members": [{"id": member.user_id}], "tenantId": member.tenant_id,
            "channelData": {"tenant": {"id": member.tenant_id}} if member.tenant_id else None})
        api = self.connector.at(member.service_url)
        created = self.connector.call(lambda: api.conversations.create(params))
        reference = Reference(conversation_key(created.id), created.id, member.service_url,
                              member.tenant_id, "personal", member.name, None, user_id)
        self.conversations.remember(reference)
        return reference.key

    # -- sending ----------------------------------------------------------------------------

    def post(self, key: str, content: Element, summary: str = "",
             reply_to: str | None = None) -> Sent:
        """One card in a conversation (in a channel, as a reply to `reply_to`)."""
        reference = self.reference(key)
        conversation = reference.conversation_id
        if reply_to is not None:
            conversation = f"{conversation};messageid={reply_to}"
        message = activity(content, summary)
        message.conversation = ConversationAccount(id=conversation)
        message.from_ = Account(id=self.bot_id)
        api = self.connector.at(reference.service_url)
        sent = self.connector.call(
            lambda: api.conversations.create_activity(conversation, message))
        return Sent(key, sent.id)

    def send_question(self, channel_id: str, question: Question) -> Sent:
        summary = f"Question {question.number} of {question.total}"
        names = self.names(question.notice) if question.notice is not None else None
        sent = self.post(channel_id, cards.question_card(question, names), summary)
        self.conversations.record_sent(QUESTION, question.delivery_id, question.prompt.id,
                                       channel_id, sent.message_id)
        return Sent(channel_id, message_key(sent.message_id))

    def find_sent(self, channel_id: str, delivery_id: int) -> dict[str | None, Sent]:
        return {(None if part == INTRO else part): Sent(key, message_key(activity_id))
                for part, (key, activity_id) in self.conversations.sent(
                    QUESTION, delivery_id).items()}

    def say(self, where: Where, said: Said) -> Sent:
        """The bot's words as a card; its id as the core keeps it (a reminder's row), not
        noted, since nothing changes such a message later."""
        sent = self._post_said(where, said)
        return Sent(sent.channel_id, message_key(sent.message_id))

    def _post_said(self, where: Where, said: Said) -> Sent:
        return self.post(where.channel_id, self.said_card(said), self.plain(said))

    def said_card(self, said: Said) -> render.Element:
        """The bot's words as a card, a channel or a person named by their name."""
        return render.card(render.said_elements(said, self.names(said)))

    def plain(self, said: Said) -> str:
        """The bot's words as one line of text, the Teams way (a command as it is typed to
        the bot, a channel by its name): what Teams shows by a card whose button was
        pressed."""
        return render.plain(said, self.names(said))

    def names(self, said: Said) -> dict[str, str]:
        """The names of the channels and people the words name, as the bot knows them."""
        people = {who: member.name for who in set(render.people(said))
                  if (member := self.conversations.member(who)) is not None and member.name}
        return self.conversations.names(render.places(said)) | people

    def offer_to_save(self, where: Where, said: Said, kept: Kept) -> Sent:
        content = cards.save_offer(render.said_elements(said, self.names(said)), kept)
        return self._kept(self.post(where.channel_id, content, self.plain(said)))

    def confirm(self, where: Where, saved: Sequence[Saved]) -> Sent:
        summary = ("Updated" if all(s.updated for s in saved)
                   else "Added" if all(s.added for s in saved) else "Saved")
        return self._kept(self.post(where.channel_id, cards.confirmations_card(saved), summary))

    def update_confirmation(self, sent: Sent, saved: Sequence[Saved]) -> bool:
        return self._update(sent, activity(cards.confirmations_card(saved, revised=True),
                                           "Updated"))

    def replace_message(self, sent: Sent, said: Said) -> None:
        names = self.names(said)
        self._update(sent, activity(render.card(render.said_elements(said, names)),
                                    render.plain(said, names)))

    def replace_form(self, sent: Sent, said: Said) -> None:
        """A Teams form is a card in the conversation: replaced as a message."""
        self.replace_message(sent, said)

    def delete_message(self, sent: Sent) -> None:
        found = self._activity(sent)
        if found is None:
            return
        reference, activity_id = found
        api = self.connector.at(reference.service_url)
        try:
            self.connector.call(lambda: api.conversations.delete_activity(
                reference.conversation_id, activity_id), method="DELETE")
        except DeliveryError as exc:
            if exc.reason not in GONE:
                raise

    def send_file(self, where: Where, file: Attachment, said: Said) -> list[Sent]:
        """Teams bots can send files in a 1:1 chat only through a consent card and the
        person's OneDrive (Microsoft Graph); the file comes as text in cards instead, each
        kept so that `delete_file` can take it down."""
        text = file.content.decode("utf-8", errors="replace")
        sent = [self._kept(self._post_said(where, said))]
        for start in range(0, len(text), FILE_TEXT):
            chunk = text[start:start + FILE_TEXT]
            sent.append(self._kept(self.post(where.channel_id,
                                             render.card([render.code_block(chunk)]),
                                             f"{file.filename} ({start // FILE_TEXT + 1})")))
        return sent

    def delete_file(self, sent: Sent) -> None:
        """A file came as cards: each is deleted as a message."""
        self.delete_message(sent)

    def _kept(self, sent: Sent) -> Sent:
        """The core's id of a message the bot may change later (bot.core.bot_messages): a
        long activity id is written down under its short key, and deleted with the core's
        row (storage.reach.forget_sent). Other messages are not noted: nothing would ever
        read or delete the note."""
        key = message_key(sent.message_id)
        if key != sent.message_id:
            self.conversations.record_sent(MESSAGE, 0, key, sent.channel_id, sent.message_id)
        return Sent(sent.channel_id, key)

    def _activity(self, sent: Sent) -> tuple[Reference, str] | None:
        """The conversation and the full activity id behind a message the core holds."""
        if self.conversations.get(sent.channel_id) is None:
            return None
        if sent.message_id == message_key(sent.message_id):  # short ids are kept whole
            return self.reference(sent.channel_id), sent.message_id
        found = self.conversations.sent(MESSAGE, 0).get(sent.message_id)
        return None if found is None else (self.reference(found[0]), found[1])

    def publish_home(self, user_id: str, home: HomeView) -> None:
        """Teams has no home page without a tab, so there is nothing to refresh: a card in
        the chat here would be a message nobody asked for (after forget-me, say). The open
        questions come as a card when someone writes `questions` (`send_home`)."""

    def send_home(self, user_id: str, home: HomeView) -> Sent:
        """Someone's open questions (and a facilitator's rounds), as a card in their 1:1
        chat."""
        return self.post(self.open_direct(user_id), cards.home_card(home),
                         "Your open questions")

    def send_card(self, key: str, content: Element, summary: str = "") -> Sent:
        return self.post(key, content, summary)

    # -- digests ----------------------------------------------------------------------------

    def send_draft(self, channel_id: str, draft: Draft) -> Sent:
        """A digest waiting for review, with its edit forms and Approve (kept, so it can be
        updated)."""
        return self._kept(self.post(channel_id, self._draft_card(draft), review_cards.SUMMARY))

    def update_draft(self, sent: Sent, draft: Draft) -> None:
        """A facilitator's copy of the draft brought up to date; one with their edit form
        open is left as it is (replacing it would lose what they typed), and they are told
        once that the draft changed; unless the form is to close (`Draft.closing`: it may
        list deleted answers), then it is replaced, and they are told why. When Teams refuses
        that, the form is still noted as open, and as to close: the next refresh closes it."""
        if draft.waiting and sent.message_id in (
                forms := self.conversations.sent(FORM, draft.digest_id)):
            closing = draft.closing
            if closing is None and sent.message_id in self.conversations.sent(
                    FORM_CLOSING, draft.digest_id):
                closing = card_form_closed(draft.view.round.id)
            if closing is not None:
                try:
                    self._update(sent, activity(self._draft_card(draft), review_cards.SUMMARY))
                except DeliveryError:
                    self.conversations.record_sent(FORM_CLOSING, draft.digest_id,
                                                   sent.message_id, *forms[sent.message_id])
                    raise
                self.conversations.unrecord_sent(FORM_NOTES, draft.digest_id, sent.message_id)
                self.say(Where(sent.channel_id), closing)
                return
            if sent.message_id not in self.conversations.sent(FORM_TOLD, draft.digest_id):
                self.say(Where(sent.channel_id), review_cards.changed_meanwhile(
                    draft.view.round.id))
                self.conversations.record_sent(FORM_TOLD, draft.digest_id, sent.message_id,
                                               sent.channel_id, sent.message_id)
            return
        self._update(sent, activity(self._draft_card(draft), review_cards.SUMMARY))

    def _draft_card(self, draft: Draft) -> Element:
        """The draft's card, whoever it names by the name Teams shows."""
        return review_cards.draft_card(draft, zone=self.zone,
                                       names=self.names(review_cards.people_named(draft)))

    def note_form(self, digest_id: int, key: str, card_id: str, session: Session) -> None:
        """A draft card (by its activity id) now shows an edit form being filled in: noted in
        the caller's transaction (bot.app.review.form_opened's, which first checks that the
        answers the form lists are all still there). One forget-me could not close before
        is open afresh, on the answers there are now: nothing is to close any more."""
        unnote_sent(session, (FORM_CLOSING,), digest_id, message_key(card_id))
        note_sent(session, FORM, digest_id, message_key(card_id), key, card_id,
                  self.conversations.clock())

    def form_closed(self, digest_id: int, card_id: str) -> None:
        """The draft card's form was closed: the card follows the draft again."""
        self.conversations.unrecord_sent(FORM_NOTES, digest_id, message_key(card_id))

    def form_saved(self, digest_id: int, card_id: str, session: Session) -> None:
        """`form_closed`, in the caller's transaction (bot.app.review.edit's, which stores
        the form's changes): a form refused is left open."""
        unnote_sent(session, FORM_NOTES, digest_id, message_key(card_id))

    def replace_card(self, key: str, activity_id: str, content: Element, summary: str = ""
                     ) -> str:
        """Put `content` in place of a card of ours, named by its activity id (the card a
        button was pressed on); when that card is gone, `content` comes as a new message,
        since the person pressing the button is waiting for it. The activity id that shows
        `content` (the new message's, noted under the core's key when it is long)."""
        reference = self.conversations.get(key)
        if reference is None or not self._put(reference, activity_id, activity(content,
                                                                                summary)):
            sent = self.post(key, content, summary)
            self._kept(sent)
            return sent.message_id
        return activity_id

    def _update(self, sent: Sent, message: MessageActivityInput) -> bool:
        """Replace a message of ours in place; one not kept, or deleted meanwhile, is left
        gone (False), as in Slack."""
        found = self._activity(sent)
        return found is not None and self._put(*found, message)

    def _put(self, reference: Reference, activity_id: str, message: MessageActivityInput
             ) -> bool:
        """Replace an activity of ours; False when it is gone."""
        api = self.connector.at(reference.service_url)
        try:
            self.connector.call(lambda: api.conversations.update_activity(
                reference.conversation_id, activity_id, message), method="PUT")
        except DeliveryError as exc:
            if exc.reason not in GONE:
                raise
            return False
        return True

    def post_digest(self, channel_id: str, view: DigestView, digest_id: int | None = None,
                    *, top: Sent | None = None) -> Posted:
        """The top card in the channel, then one card per question as replies to it; after
        an earlier attempt (`top`: find_digest's), only the parts Teams has not taken are
        posted, under the top card noted then."""
        parts = digest_cards(view)
        posted = self.conversations.sent(DIGEST, digest_id) if digest_id is not None else {}
        title = f"Digest: {view.round.title}"
        if "0" in posted:  # by its full activity id: a thread is named by it
            top = Sent(*posted["0"])
        elif top is None:
            top = self.post(channel_id, parts[0], title)
            self._record_part(digest_id, 0, top)
        thread = top.message_id
        # kept by the core, so that forget-me can replace them (noted again on a later
        # attempt, in case the one that posted them stopped before it could)
        where: dict[int, Sent] = {0: self._kept(Sent(top.channel_id, thread))}
        for number, content in enumerate(parts[1:], start=1):
            if str(number) in posted:
                where[number] = self._kept(Sent(*posted[str(number)]))
                continue
            sent = self.post(channel_id, content, title, reply_to=thread)
            self._record_part(digest_id, number, sent)
            where[number] = self._kept(sent)
        return Posted(where[0], where)

    def _record_part(self, digest_id: int | None, part: int, sent: Sent) -> None:
        if digest_id is not None:
            self.conversations.record_sent(DIGEST, digest_id, str(part), sent.channel_id,
                                           sent.message_id)

    def find_digest(self, channel_id: str, digest_id: int, since: datetime) -> Sent | None:
        """The top card an earlier attempt noted, by the key the core keeps (as post_digest
        returns it)."""
        top = self.conversations.sent(DIGEST, digest_id).get("0")
        return None if top is None else Sent(top[0], message_key(top[1]))

