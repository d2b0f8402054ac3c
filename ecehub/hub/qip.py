"""QIP repository: the plan, its goals and tasks, PD plans and their trainings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from ecehub.errors import ValidationFailed
from ecehub.hub.enums import AuditAction
from ecehub.hub.models import GoalRow, PdPlanGoalRow, PdPlanRow, QipRow, TaskRow, TrainingRow
from ecehub.hub.records import PdPlan, PdTraining, Qip, QipGoal, QipTask
from ecehub.hub.repository import Repository, required_name
from ecehub.hub.transaction import GOAL, PD_PLAN, QIP, TASK, TRAINING, Actor, WriteTransaction

__all__ = ["DEFAULT_QIP_TITLE", "QipRepository"]

DEFAULT_QIP_TITLE = "Quality Improvement Plan"


class QipRepository(Repository):
    """The QIP of each program: goals, tasks, PD plans and trainings."""

    # -- QIP -------------------------------------------------------------------------------------

    async def _ensure_qip(self, tx: WriteTransaction, program_id: str) -> Qip:
        by_program = select(QipRow).where(QipRow.program_id == program_id)
        row = await tx.session.scalar(by_program)
        if row is not None:
            return QIP.to_record(row)
        try:
            async with tx.session.begin_nested():
                values = {"program_id": program_id, "title": DEFAULT_QIP_TITLE}
                qip_id = await tx.add(QIP, values)
        except IntegrityError:  # another writer created it first: theirs is the plan
            row = await tx.session.scalar(by_program.execution_options(populate_existing=True))
            assert row is not None
            return QIP.to_record(row)
        return await tx.created(QIP, qip_id)

    async def get_or_create_qip(self, actor: Actor, program_id: str) -> Qip:
        program_id = required_name(program_id, "program_id")
        async with self._writing(actor) as tx:
            return await self._ensure_qip(tx, program_id)

    async def get_qip(self, qip_id: str) -> Qip | None:
        return await self._get(QIP, qip_id, include_deleted=True)

    async def qip_for_programs(self, program_ids: Iterable[str]) -> dict[str, Qip | None]:
        """The QIP of each program (``None`` where a program has none yet)."""
        grouped = await self._grouped(
            QIP, QipRow.program_id, program_ids, include_deleted=True, order_by=[QipRow.id]
        )
        return {program: (rows[0] if rows else None) for program, rows in grouped.items()}

    async def update_qip(
        self, actor: Actor, qip_id: str, version: int, changes: Mapping[str, Any]
    ) -> Qip:
        values = self._changes(QIP, changes)
        async with self._writing(actor) as tx:
            row = await tx.live(QIP, qip_id)
            return await tx.change(QIP, row, version, values)

    # -- goals -----------------------------------------------------------------------------------

    async def create_goal(
        self,
        actor: Actor,
        program_id: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> QipGoal:
        """A goal in the program's QIP (created on first use). Without a ``position`` the goal
        goes after the last one. (``idempotency_key``: see :meth:`Repository._create`.)"""
        program_id = required_name(program_id, "program_id")
        values = self._input(GOAL, data)

        async def make(tx: WriteTransaction) -> QipGoal:
            qip = await self._ensure_qip(tx, program_id)
            row = {**values, "qip_id": qip.id, "program_id": program_id}
            if row["position"] is None:
                last = select(func.max(GoalRow.position)).where(GoalRow.qip_id == qip.id)
                highest = await tx.session.scalar(last)
                row["position"] = 0 if highest is None else highest + 1
            return await tx.insert(GOAL, row)

        request = {**values, "program_id": program_id}
        return await self._create(GOAL, actor, idempotency_key, request, make)

    async def get_goal(self, goal_id: str, *, include_deleted: bool = False) -> QipGoal | None:
        return await self._get(GOAL, goal_id, include_deleted)

    async def goals_for_qips(
        self, qip_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[QipGoal]]:
        order = [GoalRow.position, GoalRow.created_at, GoalRow.id]
        return await self._grouped(
            GOAL, GoalRow.qip_id, qip_ids, include_deleted=include_deleted, order_by=order
        )

    async def update_goal(
        self, actor: Actor, goal_id: str, version: int, changes: Mapping[str, Any]
    ) -> QipGoal:
        return await self._update(GOAL, actor, goal_id, version, changes)

    async def delete_goal(self, actor: Actor, goal_id: str, version: int) -> QipGoal:
        """Soft delete; the goal's tasks stay but are hidden with it from ``tasks_for_programs``."""
        return await self._delete(GOAL, actor, goal_id, version)

    async def restore_goal(self, actor: Actor, goal_id: str, version: int) -> QipGoal:
        return await self._restore(GOAL, actor, goal_id, version)

    # -- tasks -----------------------------------------------------------------------------------

    async def create_task(
        self,
        actor: Actor,
        goal_id: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> QipTask:
        values = self._input(TASK, data)

        async def make(tx: WriteTransaction) -> QipTask:
            goal = await tx.live(GOAL, goal_id)
            row = {**values, "goal_id": goal.id, "program_id": goal.program_id}
            return await tx.insert(TASK, row)

        request = {**values, "goal_id": goal_id}
        return await self._create(TASK, actor, idempotency_key, request, make)

    async def get_task(self, task_id: str, *, include_deleted: bool = False) -> QipTask | None:
        return await self._get(TASK, task_id, include_deleted)

    async def tasks_for_goals(
        self, goal_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[QipTask]]:
        order = [TaskRow.created_at, TaskRow.id]
        return await self._grouped(
            TASK, TaskRow.goal_id, goal_ids, include_deleted=include_deleted, order_by=order
        )

    async def tasks_for_programs(self, program_ids: Iterable[str]) -> dict[str, list[QipTask]]:
        """The live tasks of each program's live goals (for support summaries)."""
        live_goals = select(GoalRow.id).where(GoalRow.deleted_at.is_(None))
        return await self._grouped(
            TASK,
            TaskRow.program_id,
            program_ids,
            include_deleted=False,
            order_by=[TaskRow.created_at, TaskRow.id],
            where=[TaskRow.goal_id.in_(live_goals)],
        )

    async def update_task(
        self, actor: Actor, task_id: str, version: int, changes: Mapping[str, Any]
    ) -> QipTask:
        """``changes`` may hold ``goal_id`` to move the task to another goal of the same QIP."""
        values = self._changes(TASK, changes)
        async with self._writing(actor) as tx:
            row = await tx.live(TASK, task_id)
            if "goal_id" in values:
                goal = await tx.live(GOAL, values["goal_id"], field="goal_id")
                if goal.program_id != row.program_id:
                    raise ValidationFailed({"goal_id": "must be a goal of the same QIP"})
            tx.checked(TASK, row, values)
            return await tx.change(TASK, row, version, values)

    async def delete_task(self, actor: Actor, task_id: str, version: int) -> QipTask:
        return await self._delete(TASK, actor, task_id, version)

    async def restore_task(self, actor: Actor, task_id: str, version: int) -> QipTask:
        return await self._restore(TASK, actor, task_id, version)

    # -- professional-development plans and trainings --------------------------------------------

    async def _check_goals(
        self, tx: WriteTransaction, program_id: str, goal_ids: list[str]
    ) -> None:
        if not goal_ids:
            return
        found = set(
            await tx.session.scalars(
                select(GoalRow.id).where(
                    GoalRow.id.in_(goal_ids),
                    GoalRow.program_id == program_id,
                    GoalRow.deleted_at.is_(None),
                )
            )
        )
        missing = [g for g in goal_ids if g not in found]
        if missing:
            raise ValidationFailed({"goal_ids": f"not goals of this QIP: {', '.join(missing)}"})

    async def _link_goals(self, tx: WriteTransaction, plan_id: str, goal_ids: list[str]) -> None:
        await tx.session.execute(delete(PdPlanGoalRow).where(PdPlanGoalRow.pd_plan_id == plan_id))
        if goal_ids:
            await tx.session.execute(
                insert(PdPlanGoalRow), [{"pd_plan_id": plan_id, "goal_id": g} for g in goal_ids]
            )

    async def create_pd_plan(
        self,
        actor: Actor,
        program_id: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> PdPlan:
        """A PD plan for one staff member (``staff_id``, a hub ID), linked to QIP goals by
        ``goal_ids``."""
        program_id = required_name(program_id, "program_id")
        values = self._input(PD_PLAN, data)
        request = {**values, "program_id": program_id}
        goal_ids: list[str] = values.pop("goal_ids")

        async def make(tx: WriteTransaction) -> PdPlan:
            qip = await self._ensure_qip(tx, program_id)
            await self._check_goals(tx, program_id, goal_ids)
            plan_id = await tx.add(PD_PLAN, {**values, "qip_id": qip.id, "program_id": program_id})
            await self._link_goals(tx, plan_id, goal_ids)
            return await tx.created(PD_PLAN, plan_id)

        return await self._create(PD_PLAN, actor, idempotency_key, request, make)

    async def get_pd_plan(self, plan_id: str, *, include_deleted: bool = False) -> PdPlan | None:
        return await self._get(PD_PLAN, plan_id, include_deleted)

    async def pd_plans_for_qips(
        self, qip_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[PdPlan]]:
        order = [PdPlanRow.created_at, PdPlanRow.id]
        return await self._grouped(
            PD_PLAN, PdPlanRow.qip_id, qip_ids, include_deleted=include_deleted, order_by=order
        )

    async def pd_plans_for_staff(
        self, staff_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[PdPlan]]:
        order = [PdPlanRow.created_at, PdPlanRow.id]
        return await self._grouped(
            PD_PLAN, PdPlanRow.staff_id, staff_ids, include_deleted=include_deleted, order_by=order
        )

    async def update_pd_plan(
        self, actor: Actor, plan_id: str, version: int, changes: Mapping[str, Any]
    ) -> PdPlan:
        """``goal_ids`` in ``changes`` replaces the plan's goal links."""
        values = self._changes(PD_PLAN, changes)
        goal_ids: list[str] | None = values.pop("goal_ids", None)
        async with self._writing(actor) as tx:
            row = await tx.live(PD_PLAN, plan_id)
            if goal_ids is not None:
                await self._check_goals(tx, row.program_id, goal_ids)
            before = await tx.apply(PD_PLAN, row, version, values)
            if goal_ids is not None:
                await self._link_goals(tx, plan_id, goal_ids)
            return await tx.changed(PD_PLAN, before, AuditAction.UPDATE)

    async def delete_pd_plan(self, actor: Actor, plan_id: str, version: int) -> PdPlan:
        return await self._delete(PD_PLAN, actor, plan_id, version)

    async def restore_pd_plan(self, actor: Actor, plan_id: str, version: int) -> PdPlan:
        return await self._restore(PD_PLAN, actor, plan_id, version)

    async def create_training(
        self,
        actor: Actor,
        pd_plan_id: str,
        data: Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
    ) -> PdTraining:
        values = self._input(TRAINING, data)

        async def make(tx: WriteTransaction) -> PdTraining:
            plan = await tx.live(PD_PLAN, pd_plan_id)
            row = {**values, "pd_plan_id": plan.id, "program_id": plan.program_id}
            return await tx.insert(TRAINING, row)

        request = {**values, "pd_plan_id": pd_plan_id}
        return await self._create(TRAINING, actor, idempotency_key, request, make)

    async def get_training(
        self, training_id: str, *, include_deleted: bool = False
    ) -> PdTraining | None:
        return await self._get(TRAINING, training_id, include_deleted)

    async def trainings_for_pd_plans(
        self, plan_ids: Iterable[str], *, include_deleted: bool = False
    ) -> dict[str, list[PdTraining]]:
        order = [TrainingRow.created_at, TrainingRow.id]
        return await self._grouped(
            TRAINING,
            TrainingRow.pd_plan_id,
            plan_ids,
            include_deleted=include_deleted,
            order_by=order,
        )

    async def update_training(
        self, actor: Actor, training_id: str, version: int, changes: Mapping[str, Any]
    ) -> PdTraining:
        return await self._update(TRAINING, actor, training_id, version, changes)

    async def delete_training(self, actor: Actor, training_id: str, version: int) -> PdTraining:
        return await self._delete(TRAINING, actor, training_id, version)

    async def restore_training(self, actor: Actor, training_id: str, version: int) -> PdTraining:
        return await self._restore(TRAINING, actor, training_id, version)
