"""ReachParams refuses values no walk can have, in Python terms (for API users)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from planner._errors import InputError
from planner.reach.params import MAX_SPEED_M_S, ReachParams


@pytest.mark.parametrize("speed", [0, -1.0, math.nan, math.inf, 3.01, 1.4e3])
def test_speed_must_be_a_walking_speed(speed):
    with pytest.raises(InputError, match=r"ReachParams\(speed_m_s=.*metres per second.*at most 3"):
        ReachParams(speed_m_s=speed)


def test_speed_must_be_a_number():
    with pytest.raises(InputError, match=r"speed_m_s='1.2'\) must be a number, not str"):
        ReachParams(speed_m_s="1.2")  # type: ignore[arg-type]


@pytest.mark.parametrize("minutes", [0, -5.0, math.nan, math.inf])
def test_report_limit_minutes_must_be_finite_and_positive(minutes):
    with pytest.raises(InputError, match=r"report_limit_minutes=.*finite number of minutes"):
        ReachParams(report_limit_minutes=minutes)


@pytest.mark.parametrize("name", ["snap_max_m", "boundary_access_m"])
def test_distances_must_be_finite_and_not_negative(name):
    with pytest.raises(InputError, match=rf"{name}=-1.0\) must be a finite number of metres"):
        ReachParams(**{name: -1.0})
    assert getattr(ReachParams(**{name: 0.0}), name) == 0.0  # 0 is allowed


def test_replace_is_checked_too():
    ok = ReachParams(speed_m_s=1.2)
    with pytest.raises(InputError, match="speed_m_s=9"):
        dataclasses.replace(ok, speed_m_s=9)


def test_valid_values_are_kept_and_the_limit_matches_the_cli():
    from planner.cli.run import MAX_SPEED_M_S as CLI_MAX  # noqa: PLC0415

    p = ReachParams(speed_m_s=MAX_SPEED_M_S, report_limit_minutes=15)
    assert MAX_SPEED_M_S == CLI_MAX == 3.0
    # 15 min at 3 m/s = 2,700 m
    assert p.metres(15.0) == pytest.approx(2700.0)
    assert ReachParams(speed_m_s=1).minutes(600.0) == pytest.approx(10.0)  # int accepted
