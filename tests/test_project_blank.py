"""One test of an empty cell for every table: planner.io.tables.is_blank.

Projects (planner.project.model), districts (planner.batch.districts) and the table
reader used three copies that disagreed on pandas' own blanks (``NaT``, ``pd.NA``,
``float32`` NaN): a project built from a DataFrame row kept ``NaT`` as a date and called
a blank ``pd.NA`` households cell "not a number" instead of "required".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from planner._errors import InputError
from planner.batch.districts import read_districts
from planner.io.tables import is_blank
from planner.project.model import make_project


@pytest.mark.parametrize("value", [None, np.nan, np.float32("nan"), pd.NA, pd.NaT, "", "  ",
                                   "\t"])
def test_blank_cells(value):
    assert is_blank(value)


@pytest.mark.parametrize("value", [0, 0.0, False, "0", "x", "NaN text", [], [np.nan]])
def test_values_are_not_blank(value):
    assert not is_blank(value)


def test_project_blank_date_is_not_checked_not_nat():
    p = make_project(project_id="P", households=100, geometry=shapely.Point(0, 0),
                     dates={"handover": pd.NaT, "planning_approval": "2024-01-10"})
    assert p.dates.handover is None
    assert p.dates.to_dict()["handover"] is None  # was the text "NaT"
    assert p.dates.to_dict()["planning_approval"] == "2024-01-10"


def test_project_pandas_blanks_are_missing_values():
    with pytest.raises(InputError, match="households = <NA>: is required"):
        make_project(project_id="P", households=pd.NA, geometry=shapely.Point(0, 0))
    p = make_project(project_id="P", households=100, geometry=shapely.Point(0, 0),
                     facility_m2=pd.NA, name=pd.NA, elderly=np.float32("nan"))
    assert (p.facility, p.name, p.elderly) == (None, "", None)


def test_districts_blank_optional_cells(tmp_path):
    table = tmp_path / "districts.csv"
    table.write_text("district,network,communities,facilities,speed,no_map\n"
                     "d1,roads.geojson,c.csv,f.csv,  ,\n", encoding="utf-8")
    (spec,) = read_districts(table)
    assert (spec.speed, spec.no_map, spec.gates) == (None, False, None)
