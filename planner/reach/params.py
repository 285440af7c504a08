"""Method parameters of the reach computation (:class:`ReachParams`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from planner._errors import InputError
from planner.units import metres_for_minutes, minutes_for_metres

#: Default walking speed of older pedestrians (m/s); the profile's value overrides it.
DEFAULT_SPEED_M_S = 1.0
#: A point farther than this from every road is not snapped (metres).
DEFAULT_SNAP_MAX_M = 150.0
#: A community polygon is entered from every street this close to its boundary (metres).
DEFAULT_BOUNDARY_ACCESS_M = 30.0
#: Nearest-facility minutes are searched up to this many minutes.
DEFAULT_REPORT_LIMIT_MINUTES = 60.0
#: Fastest walking speed accepted (m/s), as ``planner run --speed``: faster is not walking.
MAX_SPEED_M_S = 3.0


@dataclass(frozen=True)
class ReachParams:
    """Method parameters of the reach computation.

    Attributes
    ----------
    speed_m_s
        Walking speed in metres per second (the standards profile gives it).
    snap_max_m
        A point farther than this from every road is reported as not connected, not
        snapped (metres).
    boundary_access_m
        A community polygon is entered from every street within this distance of its
        boundary (metres).
    report_limit_minutes
        Nearest-facility minutes are searched up to this; farther is reported as
        "more than" (NaN).
    """

    speed_m_s: float = DEFAULT_SPEED_M_S
    snap_max_m: float = DEFAULT_SNAP_MAX_M
    boundary_access_m: float = DEFAULT_BOUNDARY_ACCESS_M
    report_limit_minutes: float = DEFAULT_REPORT_LIMIT_MINUTES

    def __post_init__(self) -> None:
        """Refuse values no walk can have (for Python users; the CLI checks its options).

        Raises
        ------
        InputError
            ``speed_m_s`` not a finite number in (0, :data:`MAX_SPEED_M_S`];
            ``report_limit_minutes`` not finite and positive; ``snap_max_m`` or
            ``boundary_access_m`` not finite or negative.
        """
        speed = _number("speed_m_s", self.speed_m_s)
        if not (math.isfinite(speed) and 0 < speed <= MAX_SPEED_M_S):
            msg = (f"ReachParams(speed_m_s={self.speed_m_s!r}) is not a walking speed: give "
                   f"metres per second, more than 0 and at most {MAX_SPEED_M_S:g} (older "
                   "pedestrians walk about 1.0 m/s; 4.5 km/h = 1.25 m/s).")
            raise InputError(msg)
        minutes = _number("report_limit_minutes", self.report_limit_minutes)
        if not (math.isfinite(minutes) and minutes > 0):
            msg = (f"ReachParams(report_limit_minutes={self.report_limit_minutes!r}) must be "
                   f"a finite number of minutes above 0 (default "
                   f"{DEFAULT_REPORT_LIMIT_MINUTES:g}).")
            raise InputError(msg)
        for name in ("snap_max_m", "boundary_access_m"):
            value = _number(name, getattr(self, name))
            if not (math.isfinite(value) and value >= 0):
                msg = (f"ReachParams({name}={getattr(self, name)!r}) must be a finite "
                       "number of metres, 0 or more.")
                raise InputError(msg)

    def metres(self, minutes: float | np.ndarray) -> float | np.ndarray:
        """Metres walked in ``minutes`` (see :func:`planner.units.metres_for_minutes`)."""
        return metres_for_minutes(minutes, self.speed_m_s)

    def minutes(self, metres: float | np.ndarray) -> float | np.ndarray:
        """Minutes to walk ``metres`` (see :func:`planner.units.minutes_for_metres`)."""
        return minutes_for_metres(metres, self.speed_m_s)


def _number(name: str, value: object) -> float:
    """``value`` as a float, or an :class:`InputError` naming the parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        msg = f"ReachParams({name}={value!r}) must be a number, not {type(value).__name__}."
        raise InputError(msg)
    return float(value)
