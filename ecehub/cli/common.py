"""What every ``ecehub`` command shares: the config option, the server's heap settling and
uvicorn, progress lines."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass


__all__ = [
    "CONFIG_ENV",
    "CONFIG_MISSING",
    "config_option",
    "progress",
    "serve_app",
    "settle_heap",
]


CONFIG_ENV = "ECEHUB_CONFIG"
CONFIG_MISSING = f"no config: pass --config FILE or set {CONFIG_ENV}"


def config_option(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    help_text: str = "YAML config file",
    *,
    required: bool = True,
) -> None:
    """``--config FILE``, defaulting to ``$ECEHUB_CONFIG``: the same on every command."""
    default = os.environ.get(CONFIG_ENV) or None
    parser.add_argument(
        "--config",
        default=default,
        required=required and default is None,
        help=f"{help_text} (default: ${CONFIG_ENV})",
    )


def settle_heap() -> None:
    """Move everything loaded at start (libraries, config, demo data) out of the garbage
    collector's view: measured in benchmarks/, full collections over those objects were about
    half of a 1000-program query."""
    gc.collect()
    gc.freeze()


def serve_app(app: object, host: str, port: int, *, workers: int = 1) -> None:
    """Serve ``app`` with uvicorn. With ``workers`` > 1, ``app`` is the import string of an
    app factory each worker process calls (uvicorn supervises them, one port)."""
    import uvicorn

    if workers > 1:
        uvicorn.run(
            app,  # type: ignore[arg-type]
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_level="info",
            log_config=None,
        )
        return
    settle_heap()
    # log_config=None: uvicorn's lines go to the root handler of setup_logging, in its format
    uvicorn.run(app, host=host, port=port, log_level="info", log_config=None)  # type: ignore[arg-type]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
