"""Per-request DataLoaders over the hub store's batched reads: one query per kind of hub
object per nesting level, whatever the number of programs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from ecehub.access.policy import note_readable
from ecehub.hub import HubStore, SubjectType

__all__ = ["HubLoaders", "load_merged"]

V = TypeVar("V")


def _loader(read: Callable[[list[str]], Awaitable[Mapping[str, V]]]) -> DataLoader[str, V]:
    async def load(keys: Sequence[str]) -> list[V]:
        found = await read(list(keys))
        return [found[k] for k in keys]

    return DataLoader(load_fn=load)


class HubLoaders:
    def __init__(self, store: HubStore) -> None:
        self.store = store
        self._loaders: dict[str, DataLoader[str, Any]] = {}

    def _get(
        self, name: str, read: Callable[[list[str]], Awaitable[Mapping[str, Any]]]
    ) -> DataLoader[str, Any]:
        if name not in self._loaders:
            self._loaders[name] = _loader(read)
        return self._loaders[name]

    def qip(self) -> DataLoader[str, Any]:
        return self._get("qip", self.store.qip_for_programs)

    def goals(self) -> DataLoader[str, Any]:
        return self._get("goals", self.store.goals_for_qips)

    def tasks(self) -> DataLoader[str, Any]:
        return self._get("tasks", self.store.tasks_for_goals)

    def program_tasks(self) -> DataLoader[str, Any]:
        """Live QIP tasks of live goals, by program."""
        return self._get("program_tasks", self.store.tasks_for_programs)

    def pd_plans(self) -> DataLoader[str, Any]:
        return self._get("pd_plans", self.store.pd_plans_for_qips)

    def pd_plans_for_staff(self) -> DataLoader[str, Any]:
        return self._get("pd_staff", self.store.pd_plans_for_staff)

    def trainings(self) -> DataLoader[str, Any]:
        return self._get("trainings", self.store.trainings_for_pd_plans)

    def notes(
        self,
        subject: SubjectType,
        viewer: str | None,
        visibility: frozenset[str] | None = None,
    ) -> DataLoader[str, Any]:
        """Notes a viewer may read: their own, and others' whose visibility is in
        ``visibility`` (``None``: every one but PRIVATE; the role's ``note_visibility``)."""

        def readable(note: Any) -> bool:
            return note_readable(viewer, visibility, note.author, note.visibility.value)

        async def read(ids: list[str]) -> Mapping[str, Any]:
            found = await self.store.notes_for(subject, ids, viewer=viewer)
            return {k: [n for n in notes if readable(n)] for k, notes in found.items()}

        key = f"notes:{subject}:{viewer}:{sorted(visibility) if visibility is not None else '*'}"
        return self._get(key, read)

    def activity(self) -> DataLoader[str, Any]:
        return self._get("activity", self.store.activity_for_programs)

    def funding(self) -> DataLoader[str, Any]:
        return self._get("funding", self.store.funding_for_programs)

    def task_funding(self) -> DataLoader[str, Any]:
        return self._get("task_funding", self.store.funding_for_tasks)

    def files(self, subject: SubjectType) -> DataLoader[str, Any]:
        async def read(ids: list[str]) -> Mapping[str, Any]:
            return await self.store.files_for(subject, ids)

        return self._get(f"files:{subject}", read)


async def load_merged(loader: DataLoader[str, Any], objects: Sequence[Any]) -> list[list[Any]]:
    """A list-valued hub read for merged objects: each object's rows under any of its
    :attr:`~ecehub.crosswalk.identity.Merged.hub_ids`, once each (a record a crosswalk link
    joined keeps the notes, activity, funding and files written while it stood alone)."""
    ids = [o.hub_ids for o in objects]
    found = await loader.load_many([i for group in ids for i in group])
    out: list[list[Any]] = []
    position = 0
    for group in ids:
        rows: dict[Any, Any] = {}
        for lists in found[position : position + len(group)]:
            for row in lists:
                rows.setdefault(row.id, row)
        position += len(group)
        out.append(list(rows.values()))
    return out
