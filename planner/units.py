"""Metres and minutes of walking: the one place they are converted.

``metres = minutes × 60 × speed`` with the speed in metres per second. The profile gives
the speed (default 1.0 m/s for older pedestrians, see ``docs/standards.md``).
"""

from __future__ import annotations

from typing import overload

import numpy as np

SECONDS_PER_MINUTE = 60.0


@overload
def metres_for_minutes(minutes: float, speed_m_s: float) -> float: ...
@overload
def metres_for_minutes(minutes: np.ndarray, speed_m_s: float) -> np.ndarray: ...
def metres_for_minutes(minutes: float | np.ndarray, speed_m_s: float) -> float | np.ndarray:
    """Metres walked in a number of minutes.

    Parameters
    ----------
    minutes
        Walking time in minutes (scalar or array).
    speed_m_s
        Walking speed in metres per second.

    Returns
    -------
    float or numpy.ndarray
        ``minutes × 60 × speed_m_s`` metres.
    """
    return minutes * SECONDS_PER_MINUTE * speed_m_s


@overload
def minutes_for_metres(metres: float, speed_m_s: float) -> float: ...
@overload
def minutes_for_metres(metres: np.ndarray, speed_m_s: float) -> np.ndarray: ...
def minutes_for_metres(metres: float | np.ndarray, speed_m_s: float) -> float | np.ndarray:
    """Minutes needed to walk a distance.

    Parameters
    ----------
    metres
        Distance in metres (scalar or array).
    speed_m_s
        Walking speed in metres per second.

    Returns
    -------
    float or numpy.ndarray
        ``metres / (60 × speed_m_s)`` minutes.
    """
    return metres / (SECONDS_PER_MINUTE * speed_m_s)
