"""The saga: each tick finds rollouts, decides with `next_step`, and records or publishes in order.

Decisions are recorded before they are acted on (the event fixes e.g. the canary's assets), and
the current step's deployments are re-sent after a restart, so a SIGKILL at any instant resumes:
the worst case is one deployment message sent twice, which the stream worker treats as a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pdm.domain.application import PdmApplication
from pdm.domain.errors import ConcurrentChangeError, DomainError
from pdm.domain.model_versions import ModelVersion
from pdm.domain.rollout_policy import RolloutState
from pdm.domain.rollout_steps import Finish, Instruction, Publish, Record, next_step
from pdm.domain.rollouts import Rollout
from pdm.eventstore import open_application
from pdm.infra.database import connect
from pdm.logs import get_logger
from pdm.rollout.evidence import observe
from pdm.rollout.kafka import DeploymentPublisher, ScoreTally
from pdm.rollout.store import SagaStore
from pdm.settings import Settings

log = get_logger(__name__)
Clock = Callable[[], datetime]
ACTOR = "rollout-saga"
MAX_DECISIONS = 20
APPLICATION_NAME = "pdm-saga"  # its connections in pg_stat_activity


def utc_now() -> datetime:
    return datetime.now(UTC)


class Saga:
    """One `tick` does everything once, so tests drive it with their own clock."""

    def __init__(self, settings: Settings, *, clock: Clock = utc_now,
                 app: PdmApplication | None = None) -> None:
        self.settings, self.clock = settings, clock
        self.app = app or open_application(settings.postgres, APPLICATION_NAME)
        self.owns_app = app is None
        self.conn: Any = None
        self.reconnect()
        self.tally = ScoreTally(settings.kafka)
        self.publisher = DeploymentPublisher(settings.kafka)

    def reconnect(self) -> None:
        """A fresh connection for the store: after a server restart or a terminated backend the
        old one stays broken for good (raises DatabaseUnavailableError while the server is down)."""
        if self.conn is not None:
            self.conn.close()
        pg = self.settings.postgres
        self.conn = connect(pg.conninfo(), pg.schema_name, autocommit=True, application_name=APPLICATION_NAME)
        self.store = SagaStore(self.conn)

    async def start(self) -> None:
        await self.tally.start()
        await self.publisher.start()

    async def close(self) -> None:
        await self.tally.stop()
        await self.publisher.stop()
        self.conn.close()
        if self.owns_app:
            self.app.close()

    async def tick(self) -> int:
        """Returns how many decisions were recorded; deadlines due at `now` are timed out first."""
        now = self.clock()
        await asyncio.to_thread(self.store.discover, self.app)
        active = await asyncio.to_thread(self.store.active)
        rollouts = [await asyncio.to_thread(self.app.get_rollout, rid) for rid in active]
        await self.tally.poll(_horizon_ms(rollouts, now))
        due = {d.rollout_id for d in await asyncio.to_thread(self.store.due, now)}
        ordered = sorted(active, key=lambda rid: rid not in due)
        return sum([await self.advance(rid, now) for rid in ordered])

    async def advance(self, rollout_id: UUID, now: datetime) -> int:
        recorded = 0
        for _ in range(MAX_DECISIONS):
            rollout: Rollout = await asyncio.to_thread(self.app.get_rollout, rollout_id)
            await asyncio.to_thread(self.store.keep_deadline, rollout)
            models = await asyncio.to_thread(self._models, rollout)
            observations = observe(rollout, self.tally.records, now, models)
            if not await self._execute_until_recorded(next_step(rollout, observations, now), now):
                return recorded
            recorded += 1
        log.warning("rollout_not_settling", rollout_id=str(rollout_id))
        return recorded

    async def _execute_until_recorded(self, instructions: list[Instruction], now: datetime) -> bool:
        """Stops after a recorded decision: the next one is made on the new state."""
        for instruction in instructions:
            if isinstance(instruction, Publish):
                await self.publisher.publish(instruction.key, instruction.deployment)
            elif isinstance(instruction, Finish):
                await asyncio.to_thread(self.store.finish, instruction.rollout_id, now)
                log.info("rollout_finished", rollout_id=str(instruction.rollout_id), state=instruction.step)
            elif isinstance(instruction, Record):
                return await self._record(instruction, now)
        return False

    async def _record(self, instruction: Record, now: datetime) -> bool:
        audit = {"actor": ACTOR, "correlation_id": f"rollout:{instruction.rollout_id}/{instruction.step}"}
        try:
            position = await asyncio.to_thread(self.app.record_rollout_step, instruction, now, **audit)
        except ConcurrentChangeError:  # an operator aborted meanwhile: decide again on fresh state
            log.info("rollout_step_raced", rollout_id=str(instruction.rollout_id), action=instruction.action)
            return True
        except DomainError as exc:
            log.warning("rollout_step_refused", rollout_id=str(instruction.rollout_id),
                        action=instruction.action, error=str(exc)[:300])
            return False
        if instruction.action == "time_out":
            await asyncio.to_thread(self.store.fired, instruction.rollout_id, instruction.step, now)
        verdict = instruction.verdict
        log.info("rollout_step_recorded", rollout_id=str(instruction.rollout_id), action=instruction.action,
                 step=instruction.step, position=position, passed=verdict.passed if verdict else None,
                 reason=(verdict.reason if verdict else instruction.reason) or None)
        return True

    def _models(self, rollout: Rollout) -> tuple[Any | None, Any | None]:
        """ModelVersion aggregates of candidate and baseline, read only while validating."""
        if rollout.state is not RolloutState.STARTED:
            return None, None
        return tuple(self.app.find(ModelVersion.create_id(digest.removeprefix("sha256:")))  # type: ignore[return-value]
                     for _, digest in (rollout.candidate, rollout.baseline))


def _horizon_ms(rollouts: list[Rollout], now: datetime) -> int:
    """Scores older than every open rollout's start (less one shadow period) can never be evidence."""
    starts = [r.started_at - timedelta(seconds=r.policy.shadow_s) for r in rollouts if not r.finished]
    return int(min(starts, default=now).timestamp() * 1000)
