"""Fixtures for the demo systems: one world per session (it is immutable and deterministic)."""

from __future__ import annotations

import pytest

from ecehub.demo import World, generate_world


@pytest.fixture(scope="session")
def world() -> World:
    return generate_world(200, seed=7)


@pytest.fixture(scope="session")
def big_world() -> World:
    return generate_world(1000, seed=11)
