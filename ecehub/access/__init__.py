"""Access rules: roles, scopes and the field rules from claims (:mod:`~ecehub.access.policy`;
one rule for a value wherever it travels, mapped to the schema by
:mod:`~ecehub.access.fields`), program scope in identity resolution
(:mod:`~ecehub.access.scope`) and small-cell suppression (:mod:`~ecehub.access.suppression`)."""

__all__: list[str] = []
