"""The care network: vulnerable elderly, care places, centres leading stations, tiers, beds.

The seed cities plan more than floor area: Wanzhou's care map (关爱地图, 002 item 6) and its
centres running about ten stations (item 9) with ≥ 20 beds (item 13), Changji's register of
elderly in difficulty (000 二(七)) and three-tier network (二(三)), Jinzhong's county–
township–village network (004 item 6), Chishui's 三站合一 (003 二(七)), Wanzhou's 15/25-minute
health-plus-care circle (item 25) and Yangjiang's 50 % nursing-type beds (001 六).

Modules, one job each:

- :mod:`~planner.care.rules`: the thresholds per profile (``rules.toml``), stated or labelled
  assumptions;
- :mod:`~planner.care.capacity`: vulnerable demand and the capacity floating catchment;
- :mod:`~planner.care.centres`: stations assigned to centres, loads, ``managed_by`` checks;
- :mod:`~planner.care.tiers`: tiers per unit, co-location, bed rules;
- :mod:`~planner.care.privacy`: aggregated counts only, small counts suppressed;
- :mod:`~planner.care.columns`: care columns from the input files; sample values;
- :mod:`~planner.care.assess`: the stage (reach-core distances, summary, export layers);
- the care layer of the map lives in :mod:`planner.maps.care` (maps sit above care).
"""

from planner.care.assess import CareResult, assess_care, care_stage, export_layers, has_care_data
from planner.care.capacity import capacity_catchment, care_places, vulnerable_demand
from planner.care.centres import centre_loads, lead_stations
from planner.care.columns import add_sample_care_columns, attach_care_columns
from planner.care.privacy import is_safe, safe_total, suppress_counts
from planner.care.rules import CareRules, care_rules
from planner.care.tiers import bed_share, centre_beds, colocation, tiers_by_unit

__all__ = [
    "CareResult",
    "CareRules",
    "add_sample_care_columns",
    "assess_care",
    "attach_care_columns",
    "bed_share",
    "capacity_catchment",
    "care_places",
    "care_rules",
    "care_stage",
    "centre_beds",
    "centre_loads",
    "colocation",
    "export_layers",
    "has_care_data",
    "is_safe",
    "lead_stations",
    "safe_total",
    "suppress_counts",
    "tiers_by_unit",
    "vulnerable_demand",
]
