r"""How slope and stairs slow an older pedestrian: the slope–speed function.

**Slope.** Tobler's hiking function (Tobler 1993, *Three presentations on geographical
analysis and modeling*, NCGIA Technical Report 93-1) gives walking speed on a slope of
grade ``S = dh/dx`` (rise over horizontal run) as

.. math:: W(S) = 6\,e^{-3.5\,|S + 0.05|}\ \text{km/h},

fastest (6 km/h) on a gentle descent of 5 % and 5.04 km/h on the flat. The planner keeps
its shape but scales it to the profile's flat speed ``v`` (1.0 m/s for older
pedestrians by default), so time per horizontal metre is

.. math:: t(S) = \frac{1}{v}\,\max\bigl(1,\ e^{3.5\,(|S + 0.05| - 0.05)}\bigr).

The ``max(1, ·)`` is the one departure from Tobler, and deliberate: an older pedestrian
gains no speed going downhill (Tobler's curve, fitted on hikers, lets them go 19 %
faster on a 5 % descent). It also keeps every edge's cost at least its length, which the
reach engine relies on to bound its searches by straight-line distance.

A 10 % climb costs ``e^{0.35} = 1.42`` times the flat time; a 10 % descent
``e^{3.5 × 0} = 1`` (no gain, no loss); a 20 % descent ``e^{0.35} = 1.42``.

**Stairs** (OSM ``highway=steps``) are not a slope: they are walked step by step, so a
flight of stairs costs its horizontal length at the flat speed plus a time per metre of
climb, more going up than going down. The defaults below are assumptions, not measured
values: a 16 cm riser taken at about 1.25 s per step up (7.8 s per metre of rise) and
about 1 s per step down (6.25 s per metre of fall); they are parameters
(:class:`StepsRule`). A wheelchair or walker profile (``--no-steps``) removes stairs
from the network altogether.

Costs are returned in **flat-equivalent metres**: time × flat speed, so the rest of the
planner keeps converting metres to minutes with the flat speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Tobler's exponent (per unit of grade) and the grade of his fastest walking (descent).
TOBLER_EXPONENT = 3.5
TOBLER_FASTEST_GRADE = -0.05
#: Seconds per metre of rise on stairs, going up and going down (assumptions, see above).
STEPS_UP_S_PER_M = 7.8
STEPS_DOWN_S_PER_M = 6.25
#: Rise of stairs assumed per metre of their horizontal length when no DEM is given
#: (a common riser/tread of 15/30 cm); direction unknown, so both ways pay the mean.
STEPS_ASSUMED_GRADE = 0.5


@dataclass(frozen=True)
class StepsRule:
    """Time penalty of stairs per metre of rise.

    Attributes
    ----------
    up_s_per_m, down_s_per_m
        Seconds per metre climbed and per metre descended on stairs.
    assumed_grade
        Rise per horizontal metre when no DEM gives the climb.
    """

    up_s_per_m: float = STEPS_UP_S_PER_M
    down_s_per_m: float = STEPS_DOWN_S_PER_M
    assumed_grade: float = STEPS_ASSUMED_GRADE


def slope_factor(grade: np.ndarray | float) -> np.ndarray:
    """Walking time on a grade relative to the flat (>= 1).

    Parameters
    ----------
    grade
        Rise over horizontal run in the walking direction (0.1 = 10 % uphill,
        -0.1 = 10 % downhill).

    Returns
    -------
    numpy.ndarray
        ``max(1, exp(3.5 (|grade + 0.05| - 0.05)))``: seconds per horizontal metre at the
        flat speed of 1 m/s, or flat-equivalent metres per horizontal metre.
    """
    g = np.asarray(grade, dtype=float)
    shifted = np.abs(g - TOBLER_FASTEST_GRADE) + TOBLER_FASTEST_GRADE
    return np.maximum(1.0, np.exp(TOBLER_EXPONENT * shifted))


def steps_extra_m(rise_m: np.ndarray, *, speed_m_s: float, rule: StepsRule) -> np.ndarray:
    """Flat-equivalent metres that stairs add on top of their horizontal length.

    Parameters
    ----------
    rise_m
        Height climbed in the walking direction (metres; negative = going down).
    speed_m_s
        The flat walking speed (m/s).
    rule
        Seconds per metre of rise up and down.

    Returns
    -------
    numpy.ndarray
        ``(up s/m × rise, or down s/m × fall) × speed``.
    """
    rise = np.asarray(rise_m, dtype=float)
    seconds = np.where(rise > 0, rise * rule.up_s_per_m, -rise * rule.down_s_per_m)
    return seconds * speed_m_s
