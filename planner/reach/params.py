"""Method parameters of the reach computation (:class:`ReachParams`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from planner.units import metres_for_minutes, minutes_for_metres

#: Default walking speed of older pedestrians (m/s); the profile's value overrides it.
DEFAULT_SPEED_M_S = 1.0
#: A point farther than this from every road is not snapped (metres).
DEFAULT_SNAP_MAX_M = 150.0
#: A community polygon is entered from every street this close to its boundary (metres).
DEFAULT_BOUNDARY_ACCESS_M = 30.0
#: Nearest-facility minutes are searched up to this many minutes.
DEFAULT_REPORT_LIMIT_MINUTES = 60.0


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

    def metres(self, minutes: float | np.ndarray) -> float | np.ndarray:
        """Metres walked in ``minutes`` (see :func:`planner.units.metres_for_minutes`)."""
        return metres_for_minutes(minutes, self.speed_m_s)

    def minutes(self, metres: float | np.ndarray) -> float | np.ndarray:
        """Minutes to walk ``metres`` (see :func:`planner.units.minutes_for_metres`)."""
        return minutes_for_metres(metres, self.speed_m_s)
