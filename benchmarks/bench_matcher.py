"""Program matcher benchmark: precision, recall and F1 of the crosswalk matcher against the
demo world's ground truth at each noise level, with run time and peak memory.

    .venv/bin/python benchmarks/bench_matcher.py            # 1k and 10k records, every level
    .venv/bin/python benchmarks/bench_matcher.py --large    # also 50k
    .venv/bin/python benchmarks/bench_matcher.py --sizes 2000 --levels hardest --errors 10
    .venv/bin/python benchmarks/bench_matcher.py --states 4 --sizes 1000   # real shapes

``--states N``: a world of N states holding same-named programs (multi-state), a
name-and-state-only source, and program to sites (``match_sites``), with auto-link and
suggestion precision/recall and the pairs proposed across states (benchmarks/README.md).

Two program pairings: licensing facilities vs QRIS providers, and Head Start centers vs
licensing facilities, both with ``LICENSE_NUMBER`` as the deterministic identifier; and
Head Start staff vs the QRIS workforce registry (``match_staff``, ``REGISTRY_ID``), whose
people are compared within the programs the program matcher auto-linked.

A size N is records per compared source: QRIS holds about 68% of the programs, so the world
has the fewest programs for which QRIS holds at least N providers (N = 50,000 gives a world
of 73,530 programs: 73,530 licensing facilities and 50,000 QRIS providers). Head Start holds
20% of the programs, so its pairing is smaller (14,706 centers at N = 50,000).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ecehub.crosswalk import (
    MatcherConfig,
    MatchRecord,
    MatchResult,
    StaffRecord,
    match,
    match_sites,
    match_staff,
)
from ecehub.crosswalk.matcher import candidate_pairs
from ecehub.demo import NOISE_LEVELS
from ecehub.demo.records import Facility, HeadStartCenter, ProgramTruth, QrisProvider
from ecehub.demo.world import QRIS_EXEMPT_SHARE, QRIS_SHARE, World, generate_world

LICENSE = "LICENSE_NUMBER"
REGISTRY = "REGISTRY_ID"
STAFF_KINDS = frozenset({"staff_renamed", "registry_id_missing"})
"""Noise on a program's staff, not on the program's own records."""


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


def programs_for(records: int) -> int:
    """The fewest programs whose world gives QRIS at least ``records`` providers."""
    n = max(1, int(records / (QRIS_SHARE + QRIS_EXEMPT_SHARE)) - 2)
    while round(n * QRIS_SHARE) + round(n * QRIS_EXEMPT_SHARE) < records:
        n += 1
    return n


@dataclass
class Row:
    level: str
    n: int
    label: str
    left: int
    right: int
    truth: set[tuple[str, str]]
    det: int
    auto: set[tuple[str, str]]
    suggested: set[tuple[str, str]]
    seconds: float
    peak_mib: float | None


def run(
    world: World, level: str, n: int, pairing: Pairing, config: MatcherConfig, memory: bool
) -> Row:
    truth = {pair for t in world.truth if (pair := pairing.truth(t))}
    left, right = pairing.left(world), pairing.right(world)
    return _timed(level, n, pairing.label, left, right, truth, match, config, memory)


def _timed(
    level: str,
    n: int,
    label: str,
    left: Sequence[Any],
    right: Sequence[Any],
    truth: set[tuple[str, str]],
    matcher: Callable[[Any, Any, MatcherConfig], list[MatchResult]],
    config: MatcherConfig,
    memory: bool,
) -> Row:
    gc.collect()
    start = time.perf_counter()
    results = matcher(left, right, config)
    seconds = time.perf_counter() - start
    peak = None
    if memory:
        # A second, traced run: tracemalloc slows matching, so it is not the timed one.
        del results
        gc.collect()
        tracemalloc.start()
        results = matcher(left, right, config)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return Row(
        level=level,
        n=n,
        label=label,
        left=len(left),
        right=len(right),
        truth=truth,
        det=sum(r.method == "deterministic" for r in results),
        auto={(r.left_key, r.right_key) for r in results if r.status == "auto"},
        suggested={(r.left_key, r.right_key) for r in results if r.status == "suggested"},
        seconds=seconds,
        peak_mib=peak,
    )


def run_staff(
    world: World, level: str, n: int, qris: Row, head_start: Row, scoring_only: bool, memory: bool
) -> Row:
    """Head Start staff vs the QRIS workforce registry, ``World.staff_links`` the truth.
    A Head Start person's program is the QRIS provider the program matcher auto-linked to
    their center (center -> license -> provider), so program-matching errors count here."""
    license_of = dict(head_start.auto)
    provider_of = dict(qris.auto)
    left = [
        StaffRecord(
            source="head_start",
            key=str(s.staff_id),
            first_name=s.first_nm,
            last_name=s.last_nm,
            program=provider_of.get(license_of.get(str(s.center_id), "")),
            birth_year=s.birth_year,
            education=s.highest_degree,
            credentials=s.credential_list,
            identifiers={REGISTRY: s.registry_id},
        )
        for s in world.head_start.staff
    ]
    right = [
        StaffRecord(
            source="qris",
            key=w.registry_id,
            first_name=w.first_name,
            last_name=w.last_name,
            program=w.provider_id,
            education=w.education_level,
            credentials=w.credentials,
            identifiers={REGISTRY: w.registry_id},
        )
        for w in world.qris.workforce
    ]
    truth = {(str(link.head_start_staff_id), link.registry_id) for link in world.staff_links}
    config = MatcherConfig(identifier_systems=() if scoring_only else (REGISTRY,))
    return _timed(
        level, n, "HS staff vs QRIS registry", left, right, truth, match_staff, config, memory
    )


def explain(world: World, row: Row, pairing: Pairing, limit: int) -> None:
    """Print up to ``limit`` wrong auto-links and missed pairs with the noise that struck
    the program, and the noise kinds behind every missed auto-link."""
    by_pair = {pair: t.program_id for t in world.truth if (pair := pairing.truth(t))}
    by_key: dict[str, str] = {}
    for pair, program_id in by_pair.items():
        by_key[pair[0]] = by_key[pair[1]] = program_id
    kinds: dict[str, list[str]] = {}
    for a in world.applied_noise:
        if a.kind not in STAFF_KINDS:
            kinds.setdefault(a.program_id, []).append(f"{a.system}:{a.kind}")
    wrong = sorted(row.auto - row.truth)
    missed = sorted(row.truth - row.auto)
    for pair in wrong[:limit]:
        who = [by_key.get(k, "?") for k in pair]
        print(f"    wrong auto-link {pair} programs {who} noise {[kinds.get(p, []) for p in who]}")
    for pair in missed[:limit]:
        state = "suggested" if pair in row.suggested else "not proposed"
        print(f"    missed {pair} ({state}) noise {kinds.get(by_pair[pair], [])}")
    tally = Counter(k for pair in missed for k in kinds.get(by_pair[pair], []))
    if tally:
        print(f"    noise behind the {len(missed)} missed auto-links: {dict(tally.most_common(8))}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--sizes", default="1000,10000", help="records per compared source, comma-separated"
    )
    parser.add_argument("--large", action="store_true", help="add 50000 to the sizes")
    parser.add_argument(
        "--levels", default=",".join(NOISE_LEVELS), help="noise levels, comma-separated"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--auto-link", type=float, default=MatcherConfig().auto_link)
    parser.add_argument("--suggest", type=float, default=MatcherConfig().suggest)
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the second, traced run that measures peak memory (tracemalloc)",
    )
    parser.add_argument(
        "--no-staff", action="store_true", help="skip Head Start staff vs the QRIS registry"
    )
    parser.add_argument(
        "--scoring-only",
        action="store_true",
        help="no deterministic pass: every link must come from scoring (a harder test)",
    )
    parser.add_argument(
        "--errors", type=int, default=0, help="print this many wrong auto-links and missed pairs"
    )
    parser.add_argument(
        "--states",
        type=int,
        default=0,
        help="instead of the one-state run: the real-shapes levels (multi-state, name and "
        "state only, program to sites) over a world of this many states",
    )
    args = parser.parse_args(argv)
    if args.states:
        real_shapes(args)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.large and 50000 not in sizes:
        sizes.append(50000)
    levels = [level for level in args.levels.split(",") if level]
    config = MatcherConfig(
        identifier_systems=() if args.scoring_only else (LICENSE,),
        auto_link=args.auto_link,
        suggest=args.suggest,
    )
    print(
        f"ecehub matcher benchmark: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"seed {args.seed}, {'scoring only, ' if args.scoring_only else ''}"
        f"auto_link {config.auto_link}, suggest {config.suggest}"
    )
    rows: list[Row] = []
    for n in sizes:
        programs = programs_for(n)
        for level in levels:
            start = time.perf_counter()
            world = generate_world(programs, seed=args.seed, noise=level)
            print(
                f"  N={n} {level}: world of {programs} programs generated in "
                f"{time.perf_counter() - start:.1f} s"
            )
            program_rows = []
            for pairing in PAIRINGS:
                row = run(world, level, n, pairing, config, not args.no_memory)
                program_rows.append(row)
                if args.errors:
                    print(f"   {pairing.label}:")
                    explain(world, row, pairing, args.errors)
            rows += program_rows
            if not args.no_staff:
                qris_row, head_start_row = program_rows  # in PAIRINGS order
                rows.append(
                    run_staff(
                        world,
                        level,
                        n,
                        qris_row,
                        head_start_row,
                        args.scoring_only,
                        not args.no_memory,
                    )
                )
            del world
            gc.collect()

    print()
    header = (
        f"{'N':>6} {'level':<8} {'pairing':<24} {'left':>6} {'right':>6} {'truth':>6} "
        f"{'det':>6} {'auto':>6} {'auto P':>7} {'auto R':>7} {'auto F1':>7} {'sugg':>5} "
        f"{'a+s P':>7} {'a+s R':>7} {'a+s F1':>7} {'time s':>7} {'peak MiB':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        ap, ar, af = prf(r.auto, r.truth)
        sp, sr, sf = prf(r.auto | r.suggested, r.truth)
        peak = f"{r.peak_mib:>8.0f}" if r.peak_mib is not None else f"{'-':>8}"
        print(
            f"{r.n:>6} {r.level:<8} {r.label:<24} {r.left:>6} {r.right:>6} {len(r.truth):>6} "
            f"{r.det:>6} {len(r.auto):>6} {ap:>7.4f} {ar:>7.4f} {af:>7.4f} "
            f"{len(r.suggested):>5} {sp:>7.4f} {sr:>7.4f} {sf:>7.4f} {r.seconds:>7.2f} {peak}"
        )


# --- Real shapes: several states, name-and-state-only sources, programs and their sites ----

STATE_CODES = ("AA", "BB", "CC", "DD", "EE", "FF", "GG", "HH")


@dataclass
class ShapeRow:
    level: str
    states: int
    left: int
    right: int
    truth: set[tuple[str, str]]
    auto: set[tuple[str, str]]
    suggested: set[tuple[str, str]]
    cross_state: int
    pairs: int
    seconds: float


def _in_state(record: MatchRecord, state: str) -> MatchRecord:
    """The record as state ``state`` has it: keys prefixed with the state (keys are per
    state), identifiers (license numbers) left as they are: the same numbers in every
    state."""
    return replace(record, key=f"{state}:{record.key}", state=state)


def _state_of(key: str) -> str:
    return key.partition(":")[0]


def _name_only(record: MatchRecord) -> MatchRecord:
    return MatchRecord(source=record.source, key=record.key, name=record.name, state=record.state)


def _shape_row(
    level: str,
    states: int,
    left: Sequence[MatchRecord],
    right: Sequence[MatchRecord],
    truth: set[tuple[str, str]],
    pairs: list[tuple[str, str, str]],
    seconds: float,
    count_pairs: int,
) -> ShapeRow:
    auto = {(a, b) for a, b, status in pairs if status == "auto"}
    suggested = {(a, b) for a, b, status in pairs if status == "suggested"}
    return ShapeRow(
        level=level,
        states=states,
        left=len(left),
        right=len(right),
        truth=truth,
        auto=auto,
        suggested=suggested,
        cross_state=sum(_state_of(a) != _state_of(b) for a, b in auto | suggested),
        pairs=count_pairs,
        seconds=seconds,
    )


def shape_rows(world: World, states: int, config: MatcherConfig) -> list[ShapeRow]:
    """The three real-shapes levels over ``states`` copies of ``world``: every state has
    programs of the same names, addresses and license numbers as the others (the hardest
    case for geography: only the state tells them apart)."""
    codes = STATE_CODES[:states]
    facilities = [
        _in_state(facility_record(f), s) for s in codes for f in world.licensing.facilities
    ]
    providers = [_in_state(qris_record(p), s) for s in codes for p in world.qris.providers]
    lic_qris = {
        (f"{s}:{a}", f"{s}:{b}")
        for s in codes
        for t in world.truth
        if (p := _lic_qris(t))
        for a, b in [p]
    }
    rows = []

    def timed(
        left: Sequence[MatchRecord], right: Sequence[MatchRecord]
    ) -> tuple[list[MatchResult], float]:
        gc.collect()
        start = time.perf_counter()
        results = match(left, right, config)
        return results, time.perf_counter() - start

    results, seconds = timed(facilities, providers)
    rows.append(
        _shape_row(
            "multi-state",
            states,
            facilities,
            providers,
            lic_qris,
            [(r.left_key, r.right_key, r.status) for r in results],
            seconds,
            candidate_pairs(facilities, providers, config),
        )
    )
    bare = [_name_only(p) for p in providers]
    results, seconds = timed(facilities, bare)
    rows.append(
        _shape_row(
            "name+state only",
            states,
            facilities,
            bare,
            lic_qris,
            [(r.left_key, r.right_key, r.status) for r in results],
            seconds,
            candidate_pairs(facilities, bare, config),
        )
    )
    # Program to sites: Head Start grantees (programs) whose centers (their sites, under the
    # grant number) are matched with licensed facilities; truth: each center's facility is a
    # site of the center's grantee.
    sites = [_in_state(center_record(c), s) for s in codes for c in world.head_start.centers]
    program_of = {
        f"{s}:{c.center_id}": f"{s}:{c.grant_number}"
        for s in codes
        for c in world.head_start.centers
    }
    grant_of = {c.center_id: c.grant_number for c in world.head_start.centers}
    site_truth = {
        (f"{s}:{grant_of[t.head_start_center_id]}", f"{s}:{t.license_no}")
        for s in codes
        for t in world.truth
        if t.head_start_center_id is not None and t.license_no
    }
    gc.collect()
    start = time.perf_counter()
    found = match_sites(sites, program_of, facilities, config)
    seconds = time.perf_counter() - start
    rows.append(
        _shape_row(
            "program to sites",
            states,
            sites,
            facilities,
            site_truth,
            [(m.program_key, m.facility_key, m.status) for m in found],
            seconds,
            candidate_pairs(sites, facilities, config),
        )
    )
    return rows


def real_shapes(args: argparse.Namespace) -> None:
    sizes = [int(s) for s in args.sizes.split(",") if s]
    levels = [level for level in args.levels.split(",") if level]
    config = MatcherConfig(
        identifier_systems=() if args.scoring_only else (LICENSE,),
        auto_link=args.auto_link,
        suggest=args.suggest,
    )
    print(
        f"ecehub matcher benchmark, real shapes: {args.states} states, seed {args.seed}, "
        f"auto_link {config.auto_link}, suggest {config.suggest}"
    )
    rows: list[tuple[int, str, ShapeRow]] = []
    for n in sizes:
        for level in levels:
            world = generate_world(programs_for(n), seed=args.seed, noise=level)
            for row in shape_rows(world, args.states, config):
                rows.append((n, level, row))
                if args.errors:
                    wrong = sorted(row.auto - row.truth)[: args.errors]
                    print(f"  N={n} {level} {row.level}: wrong auto-links {wrong}")
            del world
            gc.collect()
    print()
    header = (
        f"{'N/state':>7} {'noise':<8} {'level':<17} {'left':>6} {'right':>6} {'truth':>6} "
        f"{'auto':>6} {'auto P':>7} {'auto R':>7} {'sugg':>5} {'sugg P':>7} {'a+s R':>7} "
        f"{'x-state':>7} {'pairs':>8} {'time s':>7}"
    )
    print(header)
    print("-" * len(header))
    for n, level, r in rows:
        ap, ar, _ = prf(r.auto, r.truth)
        sp, _, _ = prf(r.suggested, r.truth)
        _, asr, _ = prf(r.auto | r.suggested, r.truth)
        print(
            f"{n:>7} {level:<8} {r.level:<17} {r.left:>6} {r.right:>6} {len(r.truth):>6} "
            f"{len(r.auto):>6} {ap:>7.4f} {ar:>7.4f} {len(r.suggested):>5} {sp:>7.4f} "
            f"{asr:>7.4f} {r.cross_state:>7} {r.pairs:>8} {r.seconds:>7.2f}"
        )


if __name__ == "__main__":
    main()
