"""``planner fetch``."""

from __future__ import annotations

from pathlib import Path

import click

from planner.cli._common import _friendly_errors, _step


@click.command(name="fetch")
@click.option("--place", required=True, help='Place name, e.g. "榆次区, 晋中市, 山西省, 中国".')
@click.option("--cache-folder", type=click.Path(file_okay=False), default=None,
              help="Where to keep the GraphML (default: the user's cache folder, "
                   "e.g. ~/.cache/planner/downloads; the path is printed).")
@_friendly_errors
def fetch(place: str, cache_folder: str | None) -> None:
    """Download a place's walking network from OpenStreetMap (needs internet)."""
    from planner.network import fetch_network  # noqa: PLC0415

    with _step(f"fetching the walking network of {place}"):
        path = fetch_network(place, cache_folder=Path(cache_folder) if cache_folder else None)
    click.echo(str(path))


command = fetch
