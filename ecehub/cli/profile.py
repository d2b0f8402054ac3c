"""``ecehub check --profile``: what a sample of each source's records holds, field by field.

For a data engineer connecting a system by config: per source and entity, how many of the
sampled records have each mapped field filled, empty, or unparsable (a value that is not of
the field's canonical type, read as null: a date in a format the source mapping does not
declare, ``NA`` in a number column, a value a field's ``transforms`` cannot read), with the
first unparsable values as examples. A field that is empty in every sampled record, or has
unparsable values, is what to look at first.
Values are printed on the operator's terminal only, never logged.
"""

from __future__ import annotations

from ecehub.connectors.base import Connector, Record
from ecehub.errors import SourceError

__all__ = ["profile"]


def _filled(records: list[Record], name: str, identifier: bool) -> int:
    if identifier:
        return sum(1 for r in records if r.identifiers.get(name))
    return sum(1 for r in records if r.fields.get(name) is not None)


async def profile(conn: Connector, sample: int) -> int:
    """Print the profile of every entity ``conn`` maps, from its first ``sample`` records;
    the number of entities that could not be read."""
    failed = 0
    for entity, mapping in conn.entities.items():
        before = {key: u.count for key, u in conn.unparsable().items()}
        try:
            page = await conn.find(entity, first=sample)
        except (SourceError, ValueError) as exc:
            print(f"  {conn.name}.{entity}: not read: {exc}")
            failed += 1
            continue
        records = page.records
        more = " (more not read)" if page.has_next else ""
        print(f"  {conn.name}.{entity}: {len(records)} records read{more}")
        if not records:
            continue
        after = conn.unparsable()
        print(f"    {'field':<28} {'filled':>7} {'empty':>7} {'unparsable':>10}  examples")
        names = [(n, False) for n in [*mapping.fields, *mapping.constants]]
        names += [(system, True) for system in mapping.identifiers]
        for name, identifier in dict.fromkeys(names):
            filled = _filled(records, name, identifier)
            if identifier:
                # An identifier's values are unparsable only through its transforms, which
                # the connector counts, not the record: what this read added.
                counted = (entity, f"identifier:{name}")
                found = after.get(counted)
                bad = 0 if found is None else found.count - before.get(counted, 0)
                examples = ", ".join(found.examples) if bad and found is not None else ""
            else:
                # Each sampled record says which of its fields it read as null: the count is
                # of these records, whatever the connector read before (a file parsed whole
                # by `check`, or once for every record in it).
                shown_values = [r.unparsable[name] for r in records if name in r.unparsable]
                bad = len(shown_values)
                examples = ", ".join(shown_values[:3])
            empty = len(records) - filled - bad
            shown = f"identifier {name}" if identifier else name
            print(f"    {shown:<28} {filled:>7} {empty:>7} {bad:>10}  {examples}".rstrip())
    return failed
