"""An answer saved to a question its writer did not mean: every confirmation of a written
answer says how to put it right, on both platforms, in the platform's words."""

from __future__ import annotations

from tests.adapters.harness import Harness
from tests.adapters.test_every_adapter import wait

WHERE = {"slack": "in its thread", "teams": "on its card"}


def test_a_confirmation_says_how_to_move_an_answer_to_the_question_meant(bot: Harness) -> None:
    bot.start()
    bot.write(0, "Protected time made the difference in our PCN.")
    wait(bot, lambda: any("Saved as your answer to question 1" in m for m in bot.said_to(0)),
         "the confirmation")
    confirmation = next(m for m in bot.said_to(0) if "Saved as your answer to question 1" in m)
    assert (f"Not the right question? Answer the one you meant {WHERE[bot.platform]}, and "
            "delete the message you wrote.") in confirmation, confirmation
