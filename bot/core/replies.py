"""Answers and votes: record (idempotent), edit (keeping the earlier text), delete, and keep
from being quoted ("don't quote me")."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.errors import InvalidAnswer, NotAllowed, NotFound, RoundClosed, RoundtableError
from bot.core.packs import Prompt
from bot.core.rounds import get_round, round_pack, vote_questions
from bot.core.typed_votes import read_vote_and_reason
from bot.core.wording import counted
from storage.models import Participant, Reply, ReplyVersion, Round
from storage.queries import is_an_answer, replies_by_external_id, reply_by_external_id

SOURCES = ("chat", "form", "import", "cli")
ROOM_SOURCE = "import"
"""Answers imported from the live workshop were said in the room."""
NOT_QUOTED = re.compile(r"\b(?:don[’']?t|do not) quote me\b|#noquote\b", re.IGNORECASE)
"""What a person writes in an answer to keep it from being quoted (the help explains it)."""


def asks_not_to_be_quoted(text: str | None) -> bool:
    """True when the answer says "don't quote me" (or "do not quote me", or #noquote)."""
    return bool(text) and NOT_QUOTED.search(text or "") is not None


@dataclass(frozen=True)
class Recorded:
    reply: Reply
    created: bool
    """False when the same external id was stored before (a retried event)."""
    replaced: bool = False
    """True when a vote replaced the person's earlier ballot (which is kept)."""


def record_reply(
    session: Session,
    round_id: int,
    prompt_id: str,
    participant: Participant,
    text: str,
    now: datetime,
    *,
    source: str = "chat",
    external_id: str | None = None,
) -> Recorded:
    """Store a text answer once per external id; a repeat returns the stored one."""
    round_ = get_round(session, round_id)
    check_text_answer(round_, prompt_id, round_pack(round_).prompt(prompt_id), text)
    return _insert_once(
        session,
        Reply(
            round_id=round_.id,
            prompt_id=prompt_id,
            participant_id=participant.id,
            text=text,
            source=source,
            external_id=external_id,
            quotable=not asks_not_to_be_quoted(text),
            created_at=now,
        ),
    )


def record_vote(
    session: Session,
    round_id: int,
    prompt_id: str,
    participant: Participant,
    choices: Sequence[str],
    now: datetime,
    *,
    source: str = "form",
    external_id: str | None = None,
    text: str | None = None,
) -> Recorded:
    """Store a participant's choice or ranking; a new vote replaces theirs, keeping the old one.
    `text` is the message a typed vote was read from (kept with it). Comments the person
    wrote on the question are other replies, and stay."""
    round_, prompt = _open_prompt(session, round_id, prompt_id)
    _check_choices(prompt, choices)
    current = next((reply for reply in session.scalars(
        select(Reply).where(
            Reply.round_id == round_.id,
            Reply.prompt_id == prompt_id,
            Reply.participant_id == participant.id,
            Reply.deleted_at.is_(None),
        ).order_by(Reply.id)) if reply.choices), None)
    if current is not None:
        if external_id is not None and current.external_id == external_id:
            return Recorded(current, False)
        return Recorded(current, False, _revise(current, now, text, list(choices)))
    return _insert_once(
        session,
        Reply(
            round_id=round_.id,
            prompt_id=prompt_id,
            participant_id=participant.id,
            choices=list(choices),
            text=text,
            quotable=not (text and asks_not_to_be_quoted(text)),
            source=source,
            external_id=external_id,
            created_at=now,
        ),
    )


def is_answered(session: Session, round_id: int, participant_id: int, prompt_id: str,
                *, besides: str | None = None, before: int | None = None) -> bool:
    """Whether the person has a live (not deleted) answer to this question (to a vote: a
    ballot; their comments on it are not answers), `besides` the one with that external id,
    or written `before` the reply with that id."""
    query = select(Reply.id).where(
        Reply.round_id == round_id, Reply.participant_id == participant_id,
        Reply.prompt_id == prompt_id, Reply.deleted_at.is_(None),
        is_an_answer(vote_questions([get_round(session, round_id)])))
    if besides is not None:
        query = query.where(Reply.external_id.is_distinct_from(besides))
    if before is not None:
        query = query.where(Reply.id < before)
    return session.scalar(query.limit(1)) is not None


def answered_before(session: Session, reply: Reply) -> bool:
    """Whether the person had a live answer to the question before `reply` was written: its
    words were kept beside that answer (confirmed as added, not as the answer)."""
    return is_answered(session, reply.round_id, reply.participant_id, reply.prompt_id,
                       before=reply.id)


Author = tuple[str, str]
"""Who changes an answer: (platform, user id on it)."""


@dataclass(frozen=True)
class Revision:
    reply: Reply
    changed: bool
    """False when the edit said what the answer said already (a platform may report a
    message as changed when only its link preview changed)."""
    voted: bool = False
    """A comment on a vote's question became the person's vote (its words now name one)."""


def edit_reply(session: Session, external_id: str, text: str, now: datetime,
               author: Author | None = None) -> Revision:
    """Replace an answer's text with an edit made in chat; the earlier text is kept. Given
    the `author` of the edit, only their own answer can change. Once its round closed, an
    answer stays as it was (RoundClosed): its digests and exports quoted it so."""
    reply = _live_by_external_id(session, external_id, author)
    if get_round(session, reply.round_id).status != "open":
        raise RoundClosed(f"Round {reply.round_id} has closed, so your answer stays as it was "
                          "when it closed.")
    if shows_nothing(text):
        raise InvalidAnswer("An edited answer needs some words: edit it again with your "
                            "answer in it.")
    comment = reply.choices is None
    changed = _revise(reply, now, text, reply.choices)
    if changed and (not comment or not _has_ballot(session, reply)):
        _read_again(session, reply, text)
    return Revision(reply, changed, voted=comment and reply.choices is not None)


def revise_reply(session: Session, reply: Reply, now: datetime, *, text: str | None = None,
                 choices: Sequence[str] | None = None) -> bool:
    """Make a stored answer say what its source says now (a corrected row of an imported
    file): its words or its ballot replaced as an edit replaces them, the earlier ones kept.
    False when it says that already."""
    round_, prompt = _open_prompt(session, reply.round_id, reply.prompt_id)
    if choices is None:
        check_text_answer(round_, reply.prompt_id, prompt, text or "")
    else:
        _check_choices(prompt, choices)
    return _revise(reply, now, text, list(choices) if choices is not None else None)


def _revise(reply: Reply, now: datetime, text: str | None, choices: list[str] | None) -> bool:
    """Give an answer these words and this ballot, the earlier ones kept as a version; False
    when it has them already. Words asking not to be quoted make it unquotable, and it stays
    so: a change never makes an answer quotable."""
    changed = reply.text != text or reply.choices != choices
    if changed:
        _keep_version(reply, now)
        reply.text, reply.choices, reply.edited_at = text, choices, now
    if text is not None and asks_not_to_be_quoted(text):
        reply.quotable = False
    return changed


def _has_ballot(session: Session, reply: Reply) -> bool:
    """Whether the writer of this reply has a live ballot on its question."""
    return any(other.choices for other in session.scalars(select(Reply).where(
        Reply.round_id == reply.round_id, Reply.prompt_id == reply.prompt_id,
        Reply.participant_id == reply.participant_id, Reply.deleted_at.is_(None))))


def _read_again(session: Session, reply: Reply, text: str) -> None:
    """A typed vote edited in chat: the ballot follows the words, as those words written
    anew would have been read. Words that name a ballot are the vote; words that do not
    are a comment, and the question waits for a vote again (the ballot they replaced is
    kept as a version): a ballot standing beside words that no longer say it would count a
    vote the person took back, and leave their words out of the digest. A comment on a
    vote's question, from someone who has not voted, edited into a ballot becomes their
    vote."""
    prompt = round_pack(session.get_one(Round, reply.round_id)).prompt(reply.prompt_id)
    if prompt is None or prompt.kind == "text":
        return
    ballot = read_vote_and_reason(prompt, text)[0].ballot
    reply.choices = list(ballot) if ballot is not None else None


def dont_quote(session: Session, external_id: str, author: Author) -> Reply:
    """The author asks that this answer be counted but never quoted (for good); refused
    when they asked already (a second press of the button, on another device)."""
    reply = _live_by_external_id(session, external_id, author)
    if not reply.quotable:
        raise RoundtableError("You asked already that this answer is never quoted: it counts "
                              "in its theme, that is all.")
    reply.quotable = False
    return reply


def delete_reply(session: Session, external_id: str, now: datetime,
                 author: Author | None = None) -> Reply:
    """Honour a deletion: text and history go; a tombstone keeps a retry from restoring it.
    Given the `author` of the deletion, only their own answer goes."""
    reply = _live_by_external_id(session, external_id, author)
    reply.deleted_at = now
    reply.text = None
    reply.choices = None
    reply.versions.clear()
    return reply


def clear_tombstone(session: Session, external_id: str, author: Author
                    ) -> tuple[int, str] | None:
    """A deleted answer its author brought back where they wrote it (an Undo): its
    tombstone goes, so that its words can be saved anew under their id; the round and
    question it answered. None when the message is no deleted answer of theirs."""
    stored = replies_by_external_id(session, external_id)
    if not stored or any(r.deleted_at is None or not _written_by(r, author) for r in stored):
        return None
    question = (stored[0].round_id, stored[0].prompt_id)
    for tombstone in stored:  # it holds no words: deleting it loses nothing
        session.delete(tombstone)
    session.flush()
    return question


def answer_count(session: Session, participant: Participant) -> int:
    """How many answers this person has stored, in every round (what `forget-me` deletes):
    one they deleted holds no words, and is not counted as theirs."""
    return session.scalar(select(func.count(Reply.id)).where(
        Reply.participant_id == participant.id, Reply.deleted_at.is_(None))) or 0


def check_text_answer(round_: Round, prompt_id: str, prompt: Prompt | None, text: str,
                      *, comment: bool = False) -> None:
    """Refuse (RoundtableError) what cannot be stored as a text answer to this question (or,
    with `comment`, as words on a rank or choice question)."""
    prompt = _check_open(round_, prompt_id, prompt)
    if prompt.kind != "text" and not comment:
        raise InvalidAnswer("That question is answered by choosing, not in words: choose "
                            "from its options.")
    if shows_nothing(text):
        raise InvalidAnswer("An answer needs some words: write your answer and send it again.")


BLANKS = frozenset("\u115f\u1160\u2800\u3164\uffa0")
"""Letters and signs that are drawn as nothing (Hangul fillers, the blank Braille cell)."""


def shows_nothing(text: str) -> bool:
    """Whether `text` would read as empty: only spaces, and characters that show nothing
    (zero-width spaces and joiners, direction marks, a byte-order mark: Unicode's format
    characters), which a pasted or dictated message can be made of."""
    return all(c.isspace() or c in BLANKS or unicodedata.category(c) == "Cf" for c in text)


def _open_prompt(session: Session, round_id: int, prompt_id: str) -> tuple[Round, Prompt]:
    round_ = get_round(session, round_id)
    return round_, _check_open(round_, prompt_id, round_pack(round_).prompt(prompt_id))


def _check_open(round_: Round, prompt_id: str, prompt: Prompt | None) -> Prompt:
    if round_.status != "open":
        raise RoundClosed(f"Round {round_.id} has closed, so it takes no more answers. The "
                          "answers you gave before it closed are kept.")
    if prompt is None:
        raise InvalidAnswer(f"Round {round_.id} has no such question: answer the questions "
                            "as they were sent to you.")
    return prompt


def _check_choices(prompt: Prompt, choices: Sequence[str]) -> None:
    if prompt.kind == "text":
        raise InvalidAnswer("That question is answered in words, not by choosing: write your "
                            "answer.")
    unknown = [c for c in choices if c not in prompt.options]
    if unknown:
        raise InvalidAnswer(f"“{unknown[0][:60]}” is not one of this question's options: "
                            "choose from the options listed.")
    if len(set(choices)) != len(choices):
        raise InvalidAnswer("Each option can be chosen only once: choose a different one for "
                            "each place.")
    if not choices:
        raise InvalidAnswer("Nothing was chosen: choose at least one option.")
    if len(choices) > prompt.picks:
        raise InvalidAnswer(f"This question takes at most {counted(prompt.picks, 'option')}: "
                            f"choose {prompt.picks} or fewer.")
    if prompt.kind == "rank" and len(choices) != prompt.places:
        raise InvalidAnswer(f"A ranking here needs your top {prompt.places}, and "
                            f"{counted(len(choices), 'was', 'were')} chosen: choose "
                            f"{prompt.places} options, best first.")


def _insert_once(session: Session, reply: Reply) -> Recorded:
    if reply.external_id is not None:
        existing = reply_by_external_id(session, reply.round_id, reply.external_id)
        if existing is not None:
            return Recorded(existing, False)
    try:
        with session.begin_nested():
            session.add(reply)
    except IntegrityError:
        # Another worker stored the same external id between our look-up and insert.
        existing = reply_by_external_id(session, reply.round_id, reply.external_id or "")
        if existing is None:
            raise
        return Recorded(existing, False)
    return Recorded(reply, True)


def _keep_version(reply: Reply, now: datetime) -> None:
    reply.versions.append(ReplyVersion(text=reply.text, choices=reply.choices, replaced_at=now))


def _live_by_external_id(session: Session, external_id: str, author: Author | None) -> Reply:
    live = [r for r in replies_by_external_id(session, external_id) if r.deleted_at is None]
    if not live:
        raise NotFound("That answer is not stored, or was deleted, so there is nothing to "
                       "change.")
    reply = live[0]
    if author is not None and not _written_by(reply, author):
        raise NotAllowed("Only the person who wrote an answer can change it: change your own "
                         "answers where you wrote them.")
    return reply


def _written_by(reply: Reply, author: Author) -> bool:
    return (reply.participant.platform, reply.participant.platform_user_id) == author
