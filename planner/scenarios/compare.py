"""Differences between scenarios: per community, per street, per target.

:func:`compare` takes two or more :class:`~planner.scenarios.evaluate.ScenarioResult`
and returns tables a planner reads side by side: the first scenario is the reference,
every other one is compared with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planner._errors import InputError
from planner.scenarios.evaluate import ScenarioResult
from planner.schema import SERVICE_STATUSES

#: Community columns compared, one per scenario.
COMMUNITY_VALUES = ("service_status", "accessible_m2_per_100hh", "shortfall_m2",
                    "facilities_within", "nearest_minutes")


@dataclass
class Comparison:
    """Side-by-side tables of two or more scenarios (columns suffixed ``[name]``).

    Attributes
    ----------
    names
        Scenario names, the reference first.
    communities
        One row per community in any scenario: ``community_id``, ``name``, ``street``,
        ``households`` (of the last scenario holding it), then per scenario
        ``service_status``, ``accessible_m2_per_100hh``, ``shortfall_m2``,
        ``facilities_within``, ``nearest_minutes``; ``changed`` is True when the status
        differs from the reference in any scenario (or the community is new).
    streets
        Per street: ``households_meets``, ``share_households_meets`` and ``shortfall_m2``
        per scenario, and ``households_meets_gain[name]`` against the reference.
    targets
        Per target: ``value`` and ``passed`` per scenario.
    totals
        Per scenario (rows): households and communities by status, shortfall and
        required floor area (m²), and the gain in households meeting the standard.
    """

    names: list[str]
    communities: pd.DataFrame
    streets: pd.DataFrame
    targets: pd.DataFrame
    totals: pd.DataFrame

    def status_moves(self, other: str | None = None) -> pd.DataFrame:
        """Households moving between statuses from the reference to ``other`` (last by default).

        Rows: status in the reference (``new`` for added communities); columns: status in
        ``other`` (``removed`` for dropped ones); values: households.
        """
        other = other or self.names[-1]
        c = self.communities
        before = c[f"service_status[{self.names[0]}]"].fillna("new")
        after = c[f"service_status[{other}]"].fillna("removed")
        moves = pd.crosstab(before, after, values=c["households"], aggfunc="sum")
        return moves.fillna(0).astype(int)


def compare(*results: ScenarioResult) -> Comparison:
    """Compare scenarios with the first one.

    Parameters
    ----------
    *results
        Two or more scenario results with distinct names.

    Returns
    -------
    Comparison
    """
    names = [r.name for r in results]
    if len(results) < 2 or len(set(names)) != len(names):
        msg = ("compare needs two or more scenarios with different names "
               f"(got {names}); name them with Scenario.named(...).")
        raise InputError(msg)
    return Comparison(names, _communities(results), _streets(results), _targets(results),
                      _totals(results))


def _communities(results: tuple[ScenarioResult, ...]) -> pd.DataFrame:
    ids = pd.Index([])
    for r in results:
        ids = ids.union(r.communities.index, sort=False)
    ids.name = "community_id"
    out = pd.DataFrame(index=ids)
    for col in ("name", "street", "households"):
        values = pd.Series(index=ids, dtype=object)
        for r in results:
            if col in r.communities:
                values = r.communities[col].reindex(ids).combine_first(values)
        out[col] = values
    out["households"] = pd.to_numeric(out["households"]).astype(int)
    ref = f"service_status[{results[0].name}]"
    for r in results:
        for col in COMMUNITY_VALUES:
            out[f"{col}[{r.name}]"] = r.communities[col].reindex(ids)
    changed = pd.Series(False, index=ids)
    for r in results[1:]:
        changed |= out[f"service_status[{r.name}]"].ne(out[ref])
    out["changed"] = changed
    return out.reset_index()


def _streets(results: tuple[ScenarioResult, ...]) -> pd.DataFrame:
    cols = ("households", "households_meets", "share_households_meets", "shortfall_m2")
    out = None
    for r in results:
        part = r.streets.set_index("street")[list(cols)].add_suffix(f"[{r.name}]")
        out = part if out is None else out.join(part, how="outer")
    assert out is not None
    ref = results[0].name
    for r in results[1:]:
        out[f"households_meets_gain[{r.name}]"] = (
            out[f"households_meets[{r.name}]"].fillna(0) - out[f"households_meets[{ref}]"].fillna(0)
        ).astype(int)
    return out.reset_index()


def _targets(results: tuple[ScenarioResult, ...]) -> pd.DataFrame:
    out = results[0].targets[["id", "label_zh", "label_en", "threshold"]].set_index("id")
    for r in results:
        t = r.targets.set_index("id")
        out[f"value[{r.name}]"] = t["value"]
        out[f"passed[{r.name}]"] = t["passed"]
    return out.reset_index()


def _totals(results: tuple[ScenarioResult, ...]) -> pd.DataFrame:
    rows = []
    for r in results:
        s = r.summary
        row = {"scenario": r.name, "walking_speed_m_s": s["walking_speed_m_s"],
               "communities": s["communities"], "households": s["households"]}
        row.update({f"households_{k}": v for k, v in s["households_by_status"].items()})
        row.update({f"communities_{k}": v for k, v in s["communities_by_status"].items()})
        row["shortfall_m2"] = round(s["shortfall_m2"], 1)
        row["required_m2"] = round(s["required_m2"], 1)
        row["targets_passed"] = int((r.targets["passed"] == True).sum())  # noqa: E712
        rows.append(row)
    out = pd.DataFrame(rows).set_index("scenario")
    out["households_meets_gain"] = out["households_meets"] - out["households_meets"].iloc[0]
    assert set(SERVICE_STATUSES) <= {c.removeprefix("households_") for c in out.columns}
    return out
