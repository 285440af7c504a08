"""Check a new residential project: the allocation review (``planner check-project``).

A reviewer gives the project (site, households, new-build or renovation, planned
facility, dates) and the district's data; the planner answers floor area (配建), facility
size, walking reach, pooling with neighbours, the effect on neighbours and the four
synchronisations, with a verdict citing each clause.

>>> from planner.project import prepare_district, make_project, check_project  # doctest: +SKIP
>>> district = prepare_district(area, load_profile("jinzhong"))                 # doctest: +SKIP
>>> check_project(district, make_project(project_id="P1", households=800, ...)) # doctest: +SKIP
"""

from planner.project.check import VERDICTS, ProjectCheck, check_project
from planner.project.district import District, prepare_district
from planner.project.model import Dates, PlannedFacility, Project, make_project
from planner.project.rules import Finding

__all__ = [
    "VERDICTS",
    "Dates",
    "District",
    "Finding",
    "PlannedFacility",
    "Project",
    "ProjectCheck",
    "check_project",
    "make_project",
    "prepare_district",
]
