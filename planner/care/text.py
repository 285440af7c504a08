"""Plain-text lines of the care summary, for the CLI and reports (aggregates only)."""

from __future__ import annotations

from typing import Any

__all__ = ["care_lines"]


def _ids(ids: list[str], n: int = 5) -> str:
    more = f" … (+{len(ids) - n})" if len(ids) > n else ""
    return ", ".join(ids[:n]) + more


def care_lines(care: dict[str, Any] | None) -> list[str]:
    """Lines summarising ``summary["care"]`` (empty when there is none)."""
    if not care:
        return []
    v, c, s = care["vulnerable"], care["centres"], care["stations"]
    lines = [f"care: vulnerable elderly {v['total']} ({v['basis']}; counts under "
             f"{care['suppress_below']} suppressed), {care['places']['total']:,} care places; "
             f"{v['communities_lacking_places']} communities lack places "
             f"(< {v['places_per_100_required']} per 100)"]
    lines.append(f"  centres {c['count']}: over {c['stations_per_centre']} stations "
                 f"{_ids(c['over']) or '-'}; under {_ids(c['under']) or '-'}; "
                 f"none {_ids(c['none']) or '-'}")
    if s["not_reached_by_a_centre"]:
        lines.append(f"  stations no centre reaches within {c['reach_m']:,} m: "
                     f"{_ids(s['not_reached_by_a_centre'])}")
    missing = care["tiers"]["missing"]
    if missing:
        lines.append("  missing tiers: " + _ids([f"{m['tier']} in {m['unit']}" for m in missing]))
    col = care["colocation"]
    lines.append(f"  co-located stations (within {col['distance_m']} m of "
                 f"{' and '.join(col['kinds'])}): {col['colocated']} of {col['stations']}")
    beds = care["beds"]
    if beds["centres_checked"]:
        lines.append(f"  centres under {beds['centre_min_beds']} beds: "
                     f"{_ids(beds['centres_below']) or 'none'}")
    share = beds["nursing_share"]
    if share["share"] is not None:
        verdict = "PASS" if share["passed"] else "FAIL"
        lines.append(f"  nursing-type beds {100 * share['share']:.1f}% vs "
                     f"{100 * share['threshold']:.0f}% {verdict}")
    health = care.get("health_circle")
    if health:
        lines.append(f"  health-plus-care circle {health['minutes']} min: "
                     f"{health['communities_health_plus_care']} communities")
    return lines
