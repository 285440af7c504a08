"""Two-step floating catchment worked by hand on five-row tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner._errors import InputError
from planner.coverage import assess, facility_shares


@pytest.fixture
def world():
    facilities = pd.DataFrame({"floor_area_m2": [200.0, 100.0]},
                              index=pd.Index(["F1", "F2"], name="facility_id"))
    communities = pd.DataFrame({"households": [400, 600, 500, 300]},
                               index=pd.Index(["A", "B", "C", "D"], name="community_id"))
    costs = pd.DataFrame({"facility_id": ["F1", "F1", "F2"], "community_id": ["A", "B", "B"],
                          "minutes": [5.0, 12.0, 3.0]})
    return facilities, communities, costs


def test_facility_shares(world):
    facilities, communities, costs = world
    s = facility_shares(facilities, communities, costs)
    # F1 serves A and B: 400 + 600 = 1,000 households, 200 m² -> 20 m² per 100 households
    # F2 serves B only: 600 households, 100 m² -> 16.667 m² per 100 households
    assert s.loc["F1", "households_served"] == 1000
    assert s.loc["F2", "households_served"] == 600
    assert s["m2_per_100hh_served"].to_list() == pytest.approx([20.0, 100 / 6])
    assert s["communities_served"].to_list() == [2, 1]


def test_assess_statuses_and_shortfall(world):
    facilities, communities, costs = world
    # A old (15), B new-build held to 40, C old (15), D not on the network
    required = np.array([15.0, 40.0, 15.0, 15.0])
    out = assess(communities, facilities, costs, required_m2_per_100hh=required,
                 reachable=np.array([True, True, True, False]))
    # A: 0.2 m²/household from F1 -> 20 per 100 hh >= 15: meets; 80 m² accessible
    # B: 0.2 + 1/6 = 0.3667 m²/household -> 36.67 per 100 hh < 40: below standard
    #    accessible 36.67 * 6 = 220 m², required 40 * 6 = 240 m², shortfall 20 m²
    # C: no facility within its circle: uncovered, shortfall = all 15 * 5 = 75 m²
    # D: not connected to the network: unreachable, shortfall 45 m²
    assert out["accessible_m2_per_100hh"].to_list() == pytest.approx([20.0, 110 / 3, 0, 0])
    assert out["accessible_m2"].to_list() == pytest.approx([80.0, 220.0, 0, 0])
    assert out["required_m2"].to_list() == pytest.approx([60.0, 240.0, 75.0, 45.0])
    assert out["shortfall_m2"].to_list() == pytest.approx([0.0, 20.0, 75.0, 45.0])
    assert out["service_status"].to_list() == ["meets", "below_standard", "uncovered",
                                               "unreachable"]
    assert out["facilities_within"].to_list() == [1, 2, 0, 0]
    # nothing counted twice: accessible areas add up to the floor area of facilities used
    assert out["accessible_m2"].sum() == pytest.approx(300.0)


def test_exactly_at_standard_meets(world):
    facilities, communities, costs = world
    out = assess(communities, facilities, costs,
                 required_m2_per_100hh=np.array([20.0, 15.0, 15.0, 15.0]))
    assert out.loc["A", "service_status"] == "meets"  # 20.0 vs 20: not failed by rounding


def test_minutes_and_speed_refilter_the_cost_table():
    # one cost table in metres, searched once; each community's circle is applied here
    facilities = pd.DataFrame({"floor_area_m2": [100.0]},
                              index=pd.Index(["F1"], name="facility_id"))
    communities = pd.DataFrame(
        {"households": [100, 100], "circle_minutes": [15.0, 25.0],
         "required": [10.0, 10.0]},
        index=pd.Index(["urban", "rural"], name="community_id"))
    costs = pd.DataFrame({"facility_id": ["F1", "F1"], "community_id": ["urban", "rural"],
                          "distance_m": [1000.0, 1000.0]})
    # at 1.0 m/s: urban circle 15 x 60 = 900 m < 1,000 m (out); rural 1,500 m (in)
    slow = assess(communities, facilities, costs, required_m2_per_100hh="required",
                  circle_minutes="circle_minutes", speed_m_s=1.0)
    assert slow["facilities_within"].to_list() == [0, 1]
    # F1's 100 m² go to the rural community's 100 households alone: 100 per 100 hh
    assert slow.loc["rural", "accessible_m2_per_100hh"] == pytest.approx(100.0)
    # at 1.2 m/s: urban 15 x 60 x 1.2 = 1,080 m >= 1,000 m (in); both share 100 m²
    fast = assess(communities, facilities, costs, required_m2_per_100hh="required",
                  circle_minutes="circle_minutes", speed_m_s=1.2)
    assert fast["facilities_within"].to_list() == [1, 1]
    assert fast["accessible_m2_per_100hh"].to_list() == pytest.approx([50.0, 50.0])


def test_per_community_values_align_by_id_not_position(world):
    facilities, communities, costs = world
    # the same requirement as a Series in reverse order: aligned by community_id
    required = pd.Series([15.0, 15.0, 40.0, 15.0], index=["D", "C", "B", "A"])
    out = assess(communities, facilities, costs, required_m2_per_100hh=required)
    assert out["required_m2_per_100hh"].to_list() == [15.0, 40.0, 15.0, 15.0]
    with pytest.raises(InputError, match="no value for community_id 'D'"):
        assess(communities, facilities, costs, required_m2_per_100hh=required.iloc[1:])
