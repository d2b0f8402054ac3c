"""Resolving one request: the app-wide :class:`~ecehub.resolvers.runtime.Runtime`, the
per-request :class:`~ecehub.resolvers.context.RequestContext`, the listing planner
(:mod:`~ecehub.resolvers.listing`), the hub store's DataLoaders
(:mod:`~ecehub.resolvers.hub_loaders`) and the reports' aggregation
(:mod:`~ecehub.resolvers.reports`)."""

__all__: list[str] = []
