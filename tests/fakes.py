"""Stand-ins at the network edge for core tests: a chat gateway that keeps a transcript."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.digest.model import DigestView, Draft
from bot.core.home import HomeView
from bot.core.incoming import Kept
from bot.core.ports import Attachment, DeliveryError, Posted, Sent, Where
from bot.core.questions import Question, Saved
from bot.core.said import Said


@dataclass
class Transcript:
    """A ChatGateway that records what it sent and fails on the calls it is told to."""

    platform = "slack"
    fail_on: set[int] = field(default_factory=set)
    permanent: bool = False
    retry_after: float | None = None
    """Seconds a refused call asks to wait (a 429's Retry-After), when it says."""
    sent: list[tuple[str, str]] = field(default_factory=list)
    calls: int = 0

    def _step(self, what: str, channel: str) -> Sent:
        self.calls += 1
        if self.calls in self.fail_on:
            raise DeliveryError("user_not_found" if self.permanent else "ratelimited",
                                permanent=self.permanent, retry_after=self.retry_after)
        self.sent.append((channel, what))
        return Sent(channel, f"{1_800_000_000 + len(self.sent)}.0001")

    def open_direct(self, user_id: str) -> str:
        return "D" + user_id

    def send_question(self, channel_id: str, question: Question) -> Sent:
        return self._step(question.prompt.id, channel_id)

    def post_digest(self, channel_id: str, view: DigestView, digest_id: int | None = None,
                    *, top: Sent | None = None) -> Posted:
        sent = self._step("digest", channel_id)
        return Posted(sent, {0: sent})

    def find_digest(self, channel_id: str, digest_id: int, since: datetime) -> Sent | None:
        return None

    def send_draft(self, channel_id: str, draft: Draft) -> Sent:
        return self._step(f"draft {draft.digest_id}", channel_id)

    def update_draft(self, sent: Sent, draft: Draft) -> None:
        self._step(f"draft {draft.digest_id} {draft.state}", sent.channel_id)

    def say(self, where: Where, said: Said) -> Sent:
        return self._step(said.plain, where.channel_id)

    def offer_to_save(self, where: Where, said: Said, kept: Kept) -> Sent:
        return self._step(f"offered {kept.prompt_id}: {said.plain}", where.channel_id)

    def confirm(self, where: Where, saved: Sequence[Saved]) -> Sent:
        return self._step("confirmed " + ", ".join(s.asked.prompt.id for s in saved),
                          where.channel_id)

    def update_confirmation(self, sent: Sent, saved: Sequence[Saved]) -> bool:
        self._step(f"updated {sent.message_id}: " + ", ".join(s.asked.prompt.id for s in saved),
                   sent.channel_id)
        return True

    def replace_message(self, sent: Sent, said: Said) -> None:
        self._step(f"replaced {sent.message_id}: {said.plain}", sent.channel_id)

    def replace_form(self, sent: Sent, said: Said) -> None:
        self._step(f"closed form {sent.message_id}: {said.plain}", sent.channel_id)

    def delete_message(self, sent: Sent) -> None:
        self._step(f"deleted {sent.message_id}", sent.channel_id)

    def send_file(self, where: Where, file: Attachment, said: Said) -> list[Sent]:
        return [self._step(f"file {file.filename}", where.channel_id)]

    def delete_file(self, sent: Sent) -> None:
        self._step(f"deleted file {sent.message_id}", sent.channel_id)

    def publish_home(self, user_id: str, home: HomeView) -> None:
        self._step("home", user_id)

    @property
    def gateways(self) -> dict[str, Transcript]:
        """Itself as the one platform's gateway, as the core takes gateways."""
        return {self.platform: self}

    def find_sent(self, channel_id: str, delivery_id: int) -> dict[str | None, Sent]:
        """This fake tags nothing, so it finds nothing (recovery is tested against the stub)."""
        return {}

    def to(self, channel: str) -> list[str]:
        """What was sent to one conversation, in order."""
        return [what for where, what in self.sent if where == channel]
