"""The application, assembled: settings, the database, the platforms, and the loops that run
in a process (inbox, confirmations, outbox, homes, leases; the schedule where it is wanted).

Every adapter (Slack, Teams, the command line) holds one `Roundtable` and calls the use cases
of bot.app with it. Making one starts nothing; `start` starts the loops the process needs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from bot.app.confirmation_records import Confirmed
from bot.app.confirmations import Confirmations
from bot.app.conversations import Conversations
from bot.app.homes import Homes
from bot.app.inbox import Inbox, WorkerWatch
from bot.app.logs import keep_logs_clean
from bot.app.loops import Faults, Loop
from bot.app.outbox import Outbox
from bot.app.platforms import Platform
from bot.app.spool import Spool
from bot.config import Settings
from bot.core.answers import still_standing
from bot.core.bot_messages import (
    TakeDown,
    confirmation_of,
    offer_of,
    remember_confirmation,
    take_down,
)
from bot.core.confirmations_gone import since_posted
from bot.core.confirmations_owed import confirmed as owed_confirmed
from bot.core.confirmations_owed import discharged, still_owed, take_over
from bot.core.confirmed_together import Together, confirmed_together
from bot.core.digest.build import Summariser
from bot.core.digest.model_answers import SharedAnswers
from bot.core.digest.summariser import Endpoint, summariser
from bot.core.home import HomeView, home_of
from bot.core.ports import ChatGateway, Clock, Gateways, Sent, utcnow
from bot.core.questions import Saved
from bot.scheduling.jobs import JobContext
from bot.scheduling.service import Scheduler
from storage.database import Database
from storage.db import transaction
from storage.model_answers import DatabaseModelAnswers

log = logging.getLogger(__name__)


@dataclass
class Roundtable:
    settings: Settings
    database: Database
    platforms: dict[str, Platform]
    clock: Clock = utcnow
    faults: Faults = field(default_factory=Faults)
    spool: Spool | None = None
    scheduler: Scheduler | None = None
    pacing: Callable[[], float] = time.monotonic
    """The seconds confirmations are paced by (a test holds them still)."""
    summariser: Summariser | None = field(init=False)
    """Groups answers and words digest headlines with the configured language model; None
    when none is. Made once, so every digest this process builds (posted, drafted, shown,
    exported) shares what the model answered; kept in the database too, for every process."""
    confirmations: Confirmations = field(init=False)
    outbox: Outbox = field(init=False)
    inbox: Inbox = field(init=False)
    conversations: Conversations = field(init=False)
    """The inbox's handler (what people write); also saves words a button kept."""
    homes: Homes = field(init=False)
    keeper: Loop | None = None
    """The lease loop, once started."""

    def __post_init__(self) -> None:
        self.summariser = model_summariser(self.settings,
                                           DatabaseModelAnswers(self.database.sessions))
        ttl = timedelta(seconds=self.settings.lease_seconds)
        self.outbox = Outbox(self.database, self.gateways, self.clock, self.settings.timezone,
                             lease_ttl=ttl, faults=self.faults)
        self.confirmations = Confirmations(self.gateways, after=self.outbox.wake,
                                           clock=self.pacing, faults=self.faults,
                                           remember=self._confirmed,
                                           given_up=self._given_up,
                                           recall=self._confirmation_of,
                                           recall_together=self._confirmations_repeating,
                                           standing=self._standing,
                                           owing=self._still_owed,
                                           recall_offer=self._offer_of)
        self.conversations = Conversations(
            self.clock, self.confirmations,
            {name: p.translate for name, p in self.platforms.items()}, self.outbox.worker)
        self.inbox = Inbox(self.database, self.conversations, self.clock, spool=self.spool,
                           handled_elsewhere=WorkerWatch(self.database, self.clock),
                           faults=self.faults)
        self.homes = Homes(self.database, self._publish_home, self._signed_in_platforms,
                           self.clock, self.outbox.worker, self.faults)

    def _confirmed(self, confirmed: list[Confirmed], done: list[int]) -> None:
        """Keep where confirmations landed: they repeat people's words (forget-me); and that
        the acknowledgements `done` are owed no more. One repeating words deleted while it
        was being posted (or of someone forgotten, or a round deleted, since; so too an
        offer holding words in its button) is taken down, or changed, as the deletion would
        have done had it been kept. One that cannot be kept otherwise is left out: the
        others are."""
        try:
            gone = self._remember(confirmed, done)
        except IntegrityError:
            gone = self._remember([], done)
            for one in confirmed:
                try:
                    gone += self._remember([one], [])
                except IntegrityError:
                    log.info("not recording a confirmation of someone forgotten since")
        if gone:
            log.info("took down or changed %d %s of words deleted while being posted", len(gone),
                     "confirmation" if len(gone) == 1 else "confirmations")
            take_down(self.gateways, gone)

    def _remember(self, confirmed: list[Confirmed], done: list[int]) -> list[TakeDown]:
        """Record these; those to take down or change instead (`since_posted`)."""
        now = self.clock()
        gone: list[TakeDown] = []
        with transaction(self.database.sessions) as session:
            for one in confirmed:  # before `done`: an offer reads what its deletion owes
                verdict = since_posted(session, one.platform, one.sent, one.participant_id,
                                       one.round_id, one.answers)
                if verdict.change is not None:
                    gone.append(verdict.change)
                if verdict.record:
                    remember_confirmation(session, one.platform, one.sent, one.participant_id,
                                          one.round_id, now, one.answer_id,
                                          offer_for=one.offer_for, answers=one.answers,
                                          files_dropped=one.files_dropped)
                owed_confirmed(session, one.platform, one.round_id, one.answers)
            discharged(session, done)
        return gone

    def _given_up(self, platform: str, saved: list[Saved]) -> None:
        """Confirmations the platform refused for good: owed no more."""
        by_round: dict[int, list[str]] = {}
        for one in saved:
            if one.external_id is not None:
                by_round.setdefault(one.asked.round_id, []).append(one.external_id)
        with transaction(self.database.sessions) as session:
            for round_id, answer_ids in by_round.items():
                owed_confirmed(session, platform, round_id, answer_ids)

    def _standing(self, saved: list[Saved]) -> list[Saved]:
        """Those of these answers that still stand, to confirm."""
        with self.database.sessions() as session:
            return still_standing(session, saved)

    def _still_owed(self, owed: list[int]) -> set[int]:
        """Those of these acknowledgements that are owed still (their rows stand)."""
        with self.database.sessions() as session:
            return still_owed(session, owed)

    def take_over_owed(self) -> None:
        """Post the acknowledgements (confirmations, notices) that processes gone owed
        (their leases lapsed)."""
        with transaction(self.database.sessions) as session:
            owed = take_over(session, list(self.platforms), self.clock(), self.outbox.worker)
        if owed:
            log.info("posting %d acknowledgements owed by a process that stopped", len(owed))
            self.confirmations.take_over(owed)

    def _confirmation_of(self, platform: str, round_id: int, answer_id: str) -> Sent | None:
        """Where the confirmation of this one answer landed, if it is remembered."""
        with self.database.sessions() as session:
            return confirmation_of(session, platform, round_id, answer_id)

    def _confirmations_repeating(self, platform: str, round_id: int, answer_id: str
                                 ) -> list[Together]:
        """Where confirmations of several answers repeating this one landed, if remembered,
        with their answers as they stand."""
        with self.database.sessions() as session:
            return confirmed_together(session, platform, round_id, answer_id)

    def _offer_of(self, platform: str, answer_id: str) -> Sent | None:
        """Where the offer to save the words of this message landed, if it is remembered."""
        with self.database.sessions() as session:
            return offer_of(session, platform, answer_id)

    @property
    def gateways(self) -> Gateways:
        return {name: p.gateway for name, p in self.platforms.items()}

    def gateway(self, platform: str) -> ChatGateway:
        return self.platforms[platform].gateway

    def signed_in(self, platform: str) -> bool:
        """Whether the bot holds credentials for `platform` here (Platform.signed_in)."""
        return platform in self.platforms and self.platforms[platform].signed_in

    def home_of(self, platform: str, user_id: str) -> HomeView:
        """Someone's home as it is now (a facilitator's rounds, anyone's open questions)."""
        with self.database.sessions() as session:
            return home_of(session, platform, user_id, self.facilitators_on(platform),
                           admin=user_id in self.settings.admins)

    def facilitators_on(self, platform: str) -> tuple[str, ...]:
        """The user ids configured as facilitators on `platform` (others are added in the
        app); none on a platform this process does not run."""
        return self.platforms[platform].facilitators if platform in self.platforms else ()

    def admins_homes(self) -> list[tuple[str, str]]:
        """The admins' homes, each on the platform its id belongs to, where Roundtable runs on
        it here: they list every round, so a change to any round (its deletion, retention
        deleting its answers) owes them."""
        return [(name, admin) for name, platform in self.platforms.items()
                for admin in self.settings.admins if platform.is_user_id(admin)]

    def _publish_home(self, platform: str, user_id: str) -> None:
        self.gateway(platform).publish_home(user_id, self.home_of(platform, user_id))

    def _signed_in_platforms(self) -> list[str]:
        return [name for name in self.platforms if self.signed_in(name)]

    def start(self, *, worker: bool = False, schedule: bool = False) -> None:
        """Start taking events (the inbox) and sending (confirmations, the outbox). A
        `worker` (`roundtable worker`) takes no requests: its inbox only handles what others
        stored. With `schedule`, the process also competes for the scheduler's lease."""
        ttl = timedelta(seconds=self.settings.lease_seconds)
        if schedule:
            self.scheduler = Scheduler(self.job_context(), lease_ttl=ttl)
        self.confirmations.start()
        self.inbox.start(capturing=not worker, lease_ttl=ttl)
        self.outbox.start()
        self.homes.start()
        self.keeper = Loop("leases", self._keep_leases, faults=self.faults)
        self.keeper.start()

    def job_context(self) -> JobContext:
        """What the scheduled jobs of this process work with."""
        return JobContext(self.database, self.gateways, self.clock, self.settings.timezone,
                          self.settings.retention_days, self.summariser,
                          tuple(self.admins_homes()), wake_sender=self.outbox.wake)

    @property
    def loops(self) -> list[Loop]:
        """The loops this process runs (none before `start`)."""
        if self.keeper is None:
            return []
        return [*self.inbox.loops, self.confirmations.loop, self.outbox.loop, self.homes.loop,
                self.keeper]

    def stop(self) -> None:
        """Finish the work in hand: stored events, confirmations, the outbox sweep."""
        if self.keeper is not None:
            self.keeper.stop()  # first: the schedule stands down
        if self.scheduler is not None:
            self.scheduler.stop()
        self.inbox.stop()
        self.confirmations.stop()
        self.homes.stop()
        self.outbox.stop()
        for platform in self.platforms.values():
            platform.close()

    def _keep_leases(self) -> bool:
        """One beat of the process's leases: its sender's, its inbox worker's, and the
        scheduler's (taken, kept or given up); then the acknowledgements owed by processes
        whose leases lapsed are taken over."""
        keeper = self.keeper
        beat = (self.settings.lease_seconds / 3 if self.scheduler is None
                else min(self.settings.lease_seconds / 3, self.scheduler.lease_check_seconds))
        for renew in (self.outbox.renew, self.inbox.announce,
                      *([self.scheduler.tick] if self.scheduler is not None else [])):
            try:
                renew()
            except Exception as exc:  # noqa: BLE001 - the database is away: /healthz says so
                log.warning("could not keep a lease (%s): %s", renew.__qualname__, exc)
        try:
            self.take_over_owed()
        except Exception as exc:  # noqa: BLE001 - they stay owed; the next beat tries again
            log.warning("could not take over the acknowledgements owed: %s", exc)
        return keeper is None or not keeper.stopping.wait(beat)


def model_summariser(settings: Settings, shared: SharedAnswers | None = None
                     ) -> Summariser | None:
    """The summariser of ROUNDTABLE_LLM_URL (through HTTPS_PROXY where one is set), or None
    when no endpoint is configured; the model's groupings and headlines kept in `shared` too
    (the database), so that every process shows the same."""
    if not settings.llm_url:
        return None
    key = settings.llm_key.get_secret_value() if settings.llm_key else None
    return summariser(Endpoint(settings.llm_url, settings.llm_model or "", key,
                               timeout=settings.llm_timeout, proxy=settings.https_proxy),
                      grouping=settings.llm_grouping, shared=shared)


def spool_folder(settings: Settings) -> Path:
    return settings.data_folder / "spool"


def assemble(settings: Settings, database: Database, platforms: Sequence[Platform], *,
             clock: Clock = utcnow, pacing: Callable[[], float] = time.monotonic
             ) -> Roundtable:
    """The application for this process (nothing started yet)."""
    from bot.core.digest.embeddings import use_model

    use_model(settings.embedding_model)
    keep_logs_clean()
    return Roundtable(settings, database, {p.name: p for p in platforms}, clock,
                      Faults(settings.faults), Spool(spool_folder(settings)), pacing=pacing)
