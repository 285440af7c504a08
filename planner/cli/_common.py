"""Helpers shared by every ``planner`` command: logging set-up, friendly errors, steps."""
from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from planner._errors import PlannerError

log = logging.getLogger("planner")

CRS_HELP = ("coordinate system of the file: wgs84, cgcs2000, gcj02 (Amap/Tencent), "
            "bd09 (Baidu) or EPSG:nnnn")


def _setup_logging(verbose: int, quiet: int) -> None:
    level = max(logging.DEBUG, logging.INFO - 10 * verbose + 10 * quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger("planner")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


def _friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a PlannerError into a clear message and exit code 2."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PlannerError as exc:
            if logging.getLogger("planner").level <= logging.DEBUG:
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)
        except MemoryError:
            if logging.getLogger("planner").level <= logging.DEBUG:
                raise
            click.echo("error: ran out of memory. Clip the network and the layers to the "
                       "district (osmium extract -b …), or run on a machine with more memory; "
                       "no complete output was written.", err=True)
            sys.exit(2)

    return wrapper


@contextmanager
def _step(text: str) -> Iterator[None]:
    """Print a step and how long it took (to stderr)."""
    click.echo(f"• {text} …", err=True)
    start = time.perf_counter()
    yield
    click.echo(f"  done in {time.perf_counter() - start:.1f} s", err=True)


