"""A message the confirmations loop could not post for an unexpected reason (not a platform's
refusal: a reply its client could not read, a bug) is not lost: it waits its turn again, as a
refused one does, and goes out at the latest when the process stops."""

from __future__ import annotations

from dataclasses import dataclass

from bot.app.confirmations import Confirmations
from bot.core.ports import Sent, Where
from bot.core.said import Said, said
from tests.fakes import Transcript
from tests.helpers import wait_for


@dataclass
class Breaking(Transcript):
    """Fails its first message with an error that is no platform's refusal."""

    broken: int = 1

    def say(self, where: Where, said: Said) -> Sent:
        if self.broken:
            self.broken -= 1
            raise RuntimeError("a reply the platform's client could not read")
        return super().say(where, said)


def test_a_notice_that_failed_unexpectedly_is_posted_after_all() -> None:
    gateway = Breaking()
    confirmations = Confirmations({"slack": gateway})
    confirmations.start()
    try:
        confirmations.notify("slack", Where("D1"), said("Kept as your comment on question 2."))
        wait_for(lambda: gateway.broken == 0, "the first try")
    finally:
        confirmations.stop()
    assert gateway.sent == [("D1", "Kept as your comment on question 2.")]
