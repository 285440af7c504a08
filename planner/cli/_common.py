"""Helpers shared by every ``planner`` command: logging set-up, friendly errors, steps."""
from __future__ import annotations

import logging
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from planner._errors import InputError, PlannerError

log = logging.getLogger("planner")

CRS_HELP = ("coordinate system of the file: wgs84, cgcs2000, gcj02 (Amap/Tencent), "
            "bd09 (Baidu) or EPSG:nnnn")
#: Fastest --speed accepted (m/s); the same as planner.reach.params.MAX_SPEED_M_S
#: (tests/test_reach_params.py checks), kept here so that --help need not import reach.
MAX_SPEED_M_S = 3.0


def check_speed(speed: float | None) -> None:
    """Refuse a ``--speed`` (m/s) no one walks at; ``None`` means the profile's speed.

    Raises
    ------
    InputError
        Naming the value and the range accepted.
    """
    if speed is not None and not (math.isfinite(speed) and 0 < speed <= MAX_SPEED_M_S):
        msg = (f"--speed {speed:g} is not a walking speed. Give metres per second, more than 0 "
               f"and at most {MAX_SPEED_M_S:g} (older pedestrians walk about 1.0 m/s; "
               "4.5 km/h = 1.25 m/s), or leave it out to use the profile's.")
        raise InputError(msg)


#: A run's temporary output folder inside a path (see planner.io.guard.PARTIAL_PREFIX).
_PARTIAL = re.compile(r"[/\\]\.partial-planner-[^/\\]+(?=[/\\])")


class _NoTemporaryPaths(logging.Filter):
    """Show files at their final place, never inside a run's temporary folder."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if ".partial-planner-" in text:
            record.msg, record.args = _PARTIAL.sub("", text), ()
        return True


def _setup_logging(verbose: int, quiet: int) -> None:
    level = max(logging.DEBUG, logging.INFO - 10 * verbose + 10 * quiet)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.addFilter(_NoTemporaryPaths())
    root = logging.getLogger("planner")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


#: Exit code for bad input (a file, a value, an option): the user can fix it.
EXIT_INPUT = 2
#: Exit code for an internal error (a bug or a broken installation): report it.
EXIT_INTERNAL = 3

_MEMORY_MESSAGE = ("ran out of memory. Clip the network and the layers to the district "
                   "(osmium extract -b …), or run on a machine with more memory; no complete "
                   "output was written.")


def _verbose() -> bool:
    return logging.getLogger("planner").level <= logging.DEBUG


def _friendly_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every error into one message: exit 2 for bad input, 3 for anything unforeseen.

    :class:`PlannerError` (and running out of memory) is the user's to fix: its message
    says what and where, exit code 2. Any other exception is an internal error: one line
    naming it, the hint to rerun with ``-v`` for the traceback, exit code 3, so scripts
    can tell the two apart. With ``-v`` every error is re-raised with its traceback.
    """

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise  # click's own usage errors and exits (already friendly, exit 2)
        except PlannerError as exc:
            if _verbose():
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_INPUT)
        except MemoryError:
            if _verbose():
                raise
            click.echo(f"error: {_MEMORY_MESSAGE}", err=True)
            sys.exit(EXIT_INPUT)
        except KeyboardInterrupt:
            if _verbose():
                raise
            click.echo("interrupted: no complete output was written.", err=True)
            sys.exit(130)
        except Exception as exc:
            if _verbose():
                raise
            first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
            click.echo(f"internal error: {type(exc).__name__}{': ' + first if first else ''}. "
                       "This is a bug or a broken installation, not your data's fault as far "
                       "as planner can tell. Rerun with -v (planner -v run …) for the details "
                       "and report them.", err=True)
            sys.exit(EXIT_INTERNAL)

    return wrapper


@contextmanager
def _step(text: str) -> Iterator[None]:
    """Print a step and how long it took (to stderr)."""
    click.echo(f"• {text} …", err=True)
    start = time.perf_counter()
    yield
    click.echo(f"  done in {time.perf_counter() - start:.1f} s", err=True)


