"""The ``csv`` connector on a large file: what the first read costs (parse and index), and
that later calls cost lookups, not scans (fetch of 100 keys, children of 100 parents, an
identifier filter) next to a filter that must scan (contains).

    .venv/bin/python benchmarks/bench_csv.py               # 100,000 programs, 300,000 sites
    .venv/bin/python benchmarks/bench_csv.py --rows 10000 --repeat 20

Figures are medians in milliseconds; read them as ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ecehub.connectors import FieldFilter
from ecehub.testing import build_connector


def write_files(folder: Path, rows: int) -> tuple[Path, Path]:
    programs, sites = folder / "programs.csv", folder / "sites.csv"
    with programs.open("w", encoding="utf-8") as out:
        out.write("id,name,city,level,license\n")
        for i in range(rows):
            out.write(f"P{i},Program {i},Town {i % 500},{i % 5 + 1},LIC-{i}\n")
    with sites.open("w", encoding="utf-8") as out:
        out.write("id,program,name,seats\n")
        for i in range(rows * 3):
            out.write(f"S{i},P{i // 3},Site {i},{i % 60}\n")
    return programs, sites


async def median_ms(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


async def main(rows: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        programs, sites = write_files(Path(tmp), rows)
        source = {
            "kind": "csv",
            "entities": {
                "program": {
                    "file": str(programs),
                    "key": "id",
                    "fields": {"name": "name", "city": "city", "qris_level": "level"},
                    "identifiers": {"LICENSE_NUMBER": "license"},
                },
                "site": {
                    "file": str(sites),
                    "key": "id",
                    "parent": {"program": "program"},
                    "fields": {"name": "name", "capacity": "seats"},
                },
            },
        }
        async with build_connector("bench_csv", source) as connector:
            started = time.perf_counter()
            await connector.fetch("program", ["P1"])
            await connector.fetch("site", ["S1"])
            first_read = (time.perf_counter() - started) * 1000
            await asyncio.sleep(2.1)  # past the "racily clean" window: stat only from now on
            keys = [f"P{i * (rows // 100)}" for i in range(100)]
            licenses = [f"LIC-{i * (rows // 100)}" for i in range(100)]
            figures = {
                "first read (parse + index), both files": first_read,
                "fetch 100 keys": await median_ms(lambda: connector.fetch("program", keys), repeat),
                "children of 100 parents": await median_ms(
                    lambda: connector.children("site", "program", keys), repeat
                ),
                "find: identifier in 100 values": await median_ms(
                    lambda: connector.find(
                        "program", [FieldFilter("identifier:LICENSE_NUMBER", "in", licenses)]
                    ),
                    repeat,
                ),
                "find: name contains (a scan), first 20": await median_ms(
                    lambda: connector.find(
                        "program", [FieldFilter("name", "contains", "9999")], first=20
                    ),
                    repeat,
                ),
            }
    print(f"csv connector, {rows:,} programs and {rows * 3:,} sites, median of {repeat}:")
    for name, value in figures.items():
        print(f"  {name:<42} {value:10.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.rows, args.repeat))
