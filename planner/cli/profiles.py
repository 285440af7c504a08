"""``planner profiles``."""

from __future__ import annotations

import click

from planner.cli._common import _friendly_errors


@click.command(name="profiles")
@click.argument("name", required=False)
@_friendly_errors
def profiles(name: str | None) -> None:
    """List the standards profiles, or show one with the source of every value."""
    from planner.standards import list_profiles, load_profile  # noqa: PLC0415

    if not name:
        for n in list_profiles():
            p = load_profile(n)
            click.echo(f"{n:10s} {p.name_zh}  {p.description}")
        return
    p = load_profile(name)
    d = p.to_dict()
    click.echo(f"{p.name} {p.name_zh}: {p.description}  (inherits: {' → '.join(p.chain)})")
    click.echo(f"walking speed: {p.walking_speed_m_s.value} m/s")
    for k, v in p.circle_minutes.items():
        click.echo(f"circle {k}: {v.value} min{'  (inherited)' if v.inherited else ''}"
                   f"  — {v.source.text()}")
    for k, r in p.area_per_100hh.items():
        rng = f"–{r.max_m2:g}" if r.max_m2 is not None else ""
        click.echo(f"floor area {k}: ≥ {r.min_m2:g}{rng} m² per 100 households"
                   f"{'  (inherited)' if r.inherited else ''}  — {r.source.text()}")
    for t in d["targets"]:
        due = f" by {t['due']}" if t.get("due") else ""
        click.echo(f"target {t['label_en']} ({t['label_zh']}): ≥ {100 * t['threshold']:.0f}%"
                   f"{due}, {t['measure']} over {t['unit']}  — {t['source']['text']}")
    for line in p.choices():
        click.echo(f"choice: {line}")


command = profiles
