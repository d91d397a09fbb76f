"""Work a platform must answer within seconds: its result when it is done in time; else the
platform answers at the deadline and the outcome (result or refusal) is told when known."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bot.app.deadlines import Deadline, Late, Outcome


@pytest.fixture
def deadline() -> Iterator[Deadline]:
    waiting = Deadline(0.2, "test-deadline")
    yield waiting
    waiting.close()


def test_work_done_in_time_gives_its_result_or_raises_its_error(deadline: Deadline) -> None:
    told: list[Outcome[str]] = []
    assert deadline.run(lambda: "saved", told.append) == "saved"
    with pytest.raises(ValueError, match="refused"):
        deadline.run(lambda: (_ for _ in ()).throw(ValueError("refused")), told.append)
    assert told == []  # nothing to tell later: the platform answered with the outcome


def test_the_works_own_timeout_is_its_error_not_the_deadline(deadline: Deadline) -> None:
    def model_timed_out() -> str:
        raise TimeoutError("the model did not answer")

    with pytest.raises(TimeoutError, match="the model"):
        deadline.run(model_timed_out, lambda outcome: None)


@pytest.mark.parametrize("refused", [False, True])
def test_late_work_is_told_once_it_is_done(deadline: Deadline, refused: bool) -> None:
    go_on, told = threading.Event(), threading.Event()
    outcomes: list[Outcome[str]] = []

    def slow() -> str:
        go_on.wait(30)
        if refused:
            raise ValueError("already approved")
        return "saved"

    def tell(outcome: Outcome[str]) -> None:
        outcomes.append(outcome)
        told.set()

    with pytest.raises(Late):
        deadline.run(slow, tell)
    assert not outcomes  # nothing is told before the work is done
    go_on.set()
    assert told.wait(30)
    [outcome] = outcomes
    if refused:
        assert outcome.result is None and str(outcome.error) == "already approved"
    else:
        assert outcome.result == "saved" and outcome.error is None
