"""Care-network rules as data: each value stated by a city's text, or a labelled assumption.

The values live in ``planner/care/rules.toml``, one table per standards profile. A profile
takes each value from the first table of its inheritance chain that states it (e.g.
``wanzhou`` then ``national``); a value only ``national`` gives is marked as an
assumption in every report. A user's own profile file inherits from a built-in one, so it
gets that city's care rules.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["CareRule", "CareRules", "care_rules"]

_FILE = Path(__file__).with_name("rules.toml")
KEYS = ("suppress_below", "places_per_100_vulnerable", "stations_per_centre",
        "centre_reach_m", "centre_kinds", "station_kinds", "tiers", "colocation_m",
        "colocation_kinds", "health_circle_minutes", "centre_min_beds", "nursing_bed_share")


@dataclass(frozen=True)
class CareRule:
    """One rule value with where it comes from.

    Attributes
    ----------
    value
        The number, list or table.
    source
        The clause quoted (empty for an assumption).
    assumption
        True when no seed text states it.
    profile
        The rules table it was taken from.
    note
        Why the assumption, or a comment.
    """

    value: Any
    source: str
    assumption: bool
    profile: str
    note: str = ""

    def label(self) -> str:
        """``source`` for a stated value, ``assumption: note`` otherwise."""
        return f"assumption: {self.note}" if self.assumption else self.source

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"value": self.value, "source": self.source, "assumption": self.assumption,
                "from_profile": self.profile, "note": self.note}


@dataclass(frozen=True)
class CareRules:
    """The resolved care rules of one profile, by key (see ``rules.toml``)."""

    profile: str
    rules: dict[str, CareRule]

    def __getitem__(self, key: str) -> Any:
        return self.rules[key].value

    def rule(self, key: str) -> CareRule:
        """The rule with its source."""
        return self.rules[key]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, every value with its source or assumption flag."""
        return {k: r.to_dict() for k, r in self.rules.items()}

    def assumptions(self) -> list[str]:
        """One line per value that is an assumption (for the report's choices)."""
        return [f"care rule {k} = {r.value}: {r.note} (assumption)"
                for k, r in self.rules.items() if r.assumption]


@cache
def _table() -> dict[str, Any]:
    with _FILE.open("rb") as f:
        return tomllib.load(f)


def care_rules(chain: tuple[str, ...] | list[str] | str) -> CareRules:
    """Resolve the care rules for a profile's inheritance chain.

    Parameters
    ----------
    chain
        ``Profile.chain`` (e.g. ``("wanzhou", "national")``) or one profile name.

    Returns
    -------
    CareRules
        Every key of ``rules.toml`` resolved; ``national`` closes the chain.
    """
    names = [chain] if isinstance(chain, str) else list(chain)
    if "national" not in names:
        names.append("national")
    table = _table()
    out: dict[str, CareRule] = {}
    for key in KEYS:
        for name in names:
            item = table.get(name, {}).get(key)
            if item is not None:
                out[key] = CareRule(value=item["value"], source=item.get("source", ""),
                                    assumption=bool(item.get("assumption", False)),
                                    profile=name, note=item.get("note", ""))
                break
    return CareRules(profile=names[0], rules=out)
