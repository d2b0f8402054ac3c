"""Access rules: roles and scopes from claims (:mod:`~ecehub.access.policy`), program scope
in identity resolution (:mod:`~ecehub.access.scope`) and small-cell suppression
(:mod:`~ecehub.access.suppression`)."""

__all__: list[str] = []
