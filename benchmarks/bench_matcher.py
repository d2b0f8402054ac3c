"""Program matcher benchmark: precision, recall and F1 of the crosswalk matcher against the
demo world's ground truth, with run time and peak memory.

    .venv/bin/python benchmarks/bench_matcher.py            # 1k and 10k programs
    .venv/bin/python benchmarks/bench_matcher.py --large    # also 50k
    .venv/bin/python benchmarks/bench_matcher.py --sizes 2000 --tracemalloc

Two pairings: licensing facilities vs QRIS providers, and Head Start centers vs licensing
facilities, both with ``LICENSE_NUMBER`` as the deterministic identifier. The generator's
default noise is the only level it has today.

``generate_world`` cannot build more than about 10,000 programs today (it draws Head Start
grant serials from 2,000 values), so a larger N is made of ``ceil(N / 10000)`` worlds with
seeds ``seed``, ``seed + 1``, ... whose keys and identifiers are prefixed ``W<k>:`` so they
stay distinct. Each world reuses the same brands, towns and ZIPs, so the combined state has
more same-name programs in one ZIP than a single world would: harder, not easier.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import math
import os
import platform
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ecehub.crosswalk import MatcherConfig, MatchRecord, MatchResult, match
from ecehub.demo.records import Facility, HeadStartCenter, ProgramTruth, QrisProvider
from ecehub.demo.world import World, generate_world

LICENSE = "LICENSE_NUMBER"


def facility_record(f: Facility) -> MatchRecord:
    return MatchRecord(
        source="licensing",
        key=f.license_no,
        name=f.facility_name,
        address=f.street_addr,
        city=f.city,
        zip=f.zip_code,
        phone=f.phone_no,
        email=f.email_addr,
        identifiers={LICENSE: f.license_no},
    )


def qris_record(p: QrisProvider) -> MatchRecord:
    return MatchRecord(
        source="qris",
        key=p.provider_id,
        name=p.display_name,
        address=p.street,
        city=p.city,
        zip=p.zip,
        phone=p.phone,
        email=p.email,
        identifiers={LICENSE: p.license_number},
    )


def center_record(c: HeadStartCenter) -> MatchRecord:
    return MatchRecord(
        source="head_start",
        key=str(c.center_id),
        name=c.center_name,
        address=c.address1,
        city=c.city,
        zip=c.zip,
        phone=c.phone,
        identifiers={LICENSE: c.state_license_no},
    )


@dataclass(frozen=True)
class Pairing:
    label: str
    left: Callable[[World], list[MatchRecord]]
    right: Callable[[World], list[MatchRecord]]
    truth: Callable[[ProgramTruth], tuple[str, str] | None]


def _lic_qris(t: ProgramTruth) -> tuple[str, str] | None:
    return (t.license_no, t.qris_provider_id) if t.license_no and t.qris_provider_id else None


def _hs_lic(t: ProgramTruth) -> tuple[str, str] | None:
    if t.head_start_center_id is None or not t.license_no:
        return None
    return (str(t.head_start_center_id), t.license_no)


PAIRINGS = (
    Pairing(
        "licensing vs QRIS",
        lambda w: [facility_record(f) for f in w.licensing.facilities],
        lambda w: [qris_record(p) for p in w.qris.providers],
        _lic_qris,
    ),
    Pairing(
        "Head Start vs licensing",
        lambda w: [center_record(c) for c in w.head_start.centers],
        lambda w: [facility_record(f) for f in w.licensing.facilities],
        _hs_lic,
    ),
)


def prf(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    correct = len(found & truth)
    precision = correct / len(found) if found else 1.0
    recall = correct / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


@dataclass
class Row:
    n: int
    label: str
    left: int
    right: int
    truth: int
    det: int
    auto: set[tuple[str, str]]
    suggested: set[tuple[str, str]]
    truth_pairs: set[tuple[str, str]]
    seconds: float
    memory: str


MAX_WORLD = 10_000
"""The most programs one ``generate_world`` call can build today."""


def worlds_for(n: int, seed: int) -> list[tuple[str, World]]:
    if n <= MAX_WORLD:
        return [("", generate_world(n, seed=seed))]
    k = math.ceil(n / MAX_WORLD)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return [(f"W{i}:", generate_world(size, seed=seed + i)) for i, size in enumerate(sizes)]


def _tagged(tag: str, records: list[MatchRecord]) -> list[MatchRecord]:
    if not tag:
        return records
    return [
        dataclasses.replace(
            r,
            key=tag + r.key,
            identifiers={s: tag + v if v else v for s, v in r.identifiers.items()},
        )
        for r in records
    ]


def run(
    worlds: list[tuple[str, World]], n: int, pairing: Pairing, config: MatcherConfig, trace: bool
) -> Row:
    left: list[MatchRecord] = []
    right: list[MatchRecord] = []
    truth: set[tuple[str, str]] = set()
    for tag, world in worlds:
        left += _tagged(tag, pairing.left(world))
        right += _tagged(tag, pairing.right(world))
        truth |= {
            (tag + a, tag + b) for t in world.truth if (pair := pairing.truth(t)) for a, b in [pair]
        }
    gc.collect()
    rss_before = _rss_mib()
    if trace:
        tracemalloc.start()
    start = time.perf_counter()
    results: Sequence[MatchResult] = match(left, right, config)
    seconds = time.perf_counter() - start
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        memory = f"{peak / 2**20:.0f} MiB traced"
    else:
        memory = f"+{max(0.0, _rss_mib() - rss_before):.0f} MiB RSS"
    return Row(
        n=n,
        label=pairing.label,
        left=len(left),
        right=len(right),
        truth=len(truth),
        det=sum(r.method == "deterministic" for r in results),
        auto={(r.left_key, r.right_key) for r in results if r.status == "auto"},
        suggested={(r.left_key, r.right_key) for r in results if r.status == "suggested"},
        truth_pairs=truth,
        seconds=seconds,
        memory=memory,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000", help="programs per world, comma-separated")
    parser.add_argument("--large", action="store_true", help="add 50000 to the sizes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--auto-link", type=float, default=MatcherConfig().auto_link)
    parser.add_argument("--suggest", type=float, default=MatcherConfig().suggest)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="peak memory of matching by tracemalloc (slower) instead of the RSS high-water mark",
    )
    parser.add_argument(
        "--scoring-only",
        action="store_true",
        help="no deterministic pass: every link must come from scoring (a harder test)",
    )
    parser.add_argument("--errors", type=int, default=0, help="print this many wrong auto-links")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.large and 50000 not in sizes:
        sizes.append(50000)
    config = MatcherConfig(
        identifier_systems=() if args.scoring_only else (LICENSE,),
        auto_link=args.auto_link,
        suggest=args.suggest,
    )
    print(
        f"ecehub matcher benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"seed {args.seed}, {'scoring only, ' if args.scoring_only else ''}"
        f"auto_link {config.auto_link}, suggest {config.suggest}, "
        "generator's default noise"
    )
    rows: list[Row] = []
    for n in sizes:
        start = time.perf_counter()
        worlds = worlds_for(n, args.seed)
        print(f"  N={n}: {len(worlds)} world(s) generated in {time.perf_counter() - start:.1f} s")
        for pairing in PAIRINGS:
            row = run(worlds, n, pairing, config, args.tracemalloc)
            rows.append(row)
            wrong = sorted(row.auto - row.truth_pairs)[: args.errors]
            missed = sorted(row.truth_pairs - row.auto - row.suggested)[: args.errors]
            for pair in wrong:
                print(f"    wrong auto-link {pair}")
            for pair in missed:
                print(f"    missed {pair}")
        del worlds
        gc.collect()

    print()
    header = (
        f"{'N':>6}  {'pairing':<24} {'left':>6} {'right':>6} {'truth':>6} {'det':>6} "
        f"{'auto':>6} {'auto P':>7} {'auto R':>7} {'auto F1':>7} {'sugg':>5} {'sugg P':>7} "
        f"{'a+s R':>6} {'time s':>7}  memory"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        ap, ar, af = prf(r.auto, r.truth_pairs)
        sp, _, _ = prf(r.suggested, r.truth_pairs)
        _, asr, _ = prf(r.auto | r.suggested, r.truth_pairs)
        print(
            f"{r.n:>6}  {r.label:<24} {r.left:>6} {r.right:>6} {r.truth:>6} {r.det:>6} "
            f"{len(r.auto):>6} {ap:>7.4f} {ar:>7.4f} {af:>7.4f} {len(r.suggested):>5} "
            f"{sp:>7.3f} {asr:>6.4f} {r.seconds:>7.2f}  {r.memory}"
        )


if __name__ == "__main__":
    main()
