"""The Python filter evaluator (``ecehub.connectors.matches``) over many records: what a
connector's client-side filter and the hub's listing checks cost per record, for filters of
one and of many values. Uses only the public API, so an older checkout can be timed the same
way (``PYTHONPATH=<tree> python benchmarks/bench_filters.py``).

    .venv/bin/python benchmarks/bench_filters.py --records 5000 --values 1,100,1000
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

from ecehub.connectors import FieldFilter, Record, matches


def _records(n: int) -> list[Record]:
    return [
        Record(
            "bench",
            "program",
            str(i),
            {
                "name": f"Little Steps {i}",
                "city": ["Ashton", "Baker", "Clark"][i % 3],
                "qris_level": i % 5,
                "license_expires": dt.date(2026, 1, 1) + dt.timedelta(days=i % 400),
            },
            {"LICENSE_NUMBER": f"CCL-{i:06d}"},
        )
        for i in range(n)
    ]


def _time(run: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--values", default="1,100,1000", help="values of the `in` filters")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    rows = _records(args.records)
    cases: list[tuple[str, list[FieldFilter]]] = []
    for n in (int(v) for v in args.values.split(",")):
        wanted = [f" ccl-{i * 7:06d} " for i in range(n)]
        cases.append(
            (
                f"identifier in ({n} values)",
                [FieldFilter("identifier:LICENSE_NUMBER", "in", wanted)],
            )
        )
        levels = [str(i % 5) for i in range(n)]
        cases.append((f"qris_level in ({n} values)", [FieldFilter("qris_level", "in", levels)]))
    cases += [
        ("city eq", [FieldFilter("city", "eq", " baker ")]),
        ("name contains", [FieldFilter("name", "contains", "steps 1")]),
        ("license_expires gte", [FieldFilter("license_expires", "gte", "2026-06-01")]),
    ]
    print(f"matches() over {args.records} records, median of {args.repeat} runs")
    print(f"{'filter':32} {'matched':>8} {'ms':>9} {'us/record':>10}")
    for label, filters in cases:

        def run(filters: list[FieldFilter] = filters) -> int:
            return sum(1 for r in rows if matches(r, filters))

        matched = run()
        ms = _time(run, args.repeat)
        print(f"{label:32} {matched:>8} {ms:>9.1f} {ms * 1000 / args.records:>10.2f}")


if __name__ == "__main__":
    main()
