"""``planner sample``."""

from __future__ import annotations

from pathlib import Path

import click

from planner._errors import InputError
from planner.cli._common import _friendly_errors, _step

#: First line of the README that ``planner sample`` writes (planner.sample.writer).
SAMPLE_README_TITLE = "# 合成样例区 · Synthetic sample district"
#: Files of the sample that a user's folder may already hold under the same name.
SAMPLE_FILES = ("roads.gpkg", "communities.gpkg", "gates.csv", "facilities.csv",
                "boundary.geojson", "river.geojson", "README.md", "dem.tif", "population.tif")


@click.command(name="sample")
@click.option("--out", "out_dir", default="data/sample", show_default=True,
              type=click.Path(file_okay=False), help="Folder for the sample files.")
@click.option("--seed", default=42, show_default=True, help="Random seed.")
@click.option("--size", type=click.FloatRange(min=0.05), default=1.0, show_default=True,
              help="Scale of the district (1 = a few hundred communities; "
                   "10 = ten times the area).")
@click.option("--communities", "n_communities", type=click.IntRange(min=1), default=None,
              help="Number of communities (default: by size).")
@click.option("--facilities", "n_facilities", type=click.IntRange(min=1), default=None,
              help="Number of facilities (default: by size).")
@click.option("--hilly", is_flag=True,
              help="Hilly variant: also dem.tif (known slope field), a few stairs "
                   "(highway=steps) and population.tif; try `planner run --dem`.")
@_friendly_errors
def sample(out_dir: str, seed: int, size: float, n_communities: int | None,
           n_facilities: int | None, hilly: bool) -> None:
    """Write the synthetic sample district (roads, communities, gates, facilities)."""
    from planner.io.guard import Manifest, check_output_paths, output_lock  # noqa: PLC0415
    from planner.sample import write_sample  # noqa: PLC0415
    from planner.sample.hilly import write_hilly_sample  # noqa: PLC0415

    out = check_output_paths(out_dir)
    manifest = Manifest.read(out)
    if not manifest.files and _older_sample(out):
        manifest.legacy = {n for n in SAMPLE_FILES if (out / n).is_file()}
    foreign = manifest.foreign(SAMPLE_FILES)
    if foreign:
        msg = (f"--out {out_dir} already holds {', '.join(foreign)}, which planner sample did "
               "not write: it will not replace them. Give an empty or new folder.")
        raise InputError(msg)
    writer = write_hilly_sample if hilly else write_sample
    kind = "hilly synthetic sample" if hilly else "synthetic sample"
    with output_lock(out), _step(f"writing the {kind} (seed {seed}, size {size}) to {out_dir}"):
        files = writer(out_dir, seed=seed, size=size, n_communities=n_communities,
                       n_facilities=n_facilities)
        written = {Path(p).name: [Path(p).stat().st_size] for p in files.values()
                   if Path(p).is_file() and Path(p).resolve().parent == out}
        manifest.write({**{k: v for k, v in manifest.files.items() if (out / k).exists()},
                        **written})
    for name, path in files.items():
        click.echo(f"{name}: {path}")


def _older_sample(folder: Path) -> bool:
    """A sample folder written before manifests existed: its README is the sample's own."""
    try:
        first = (folder / "README.md").read_text(encoding="utf-8").split("\n", 1)[0]
    except (OSError, UnicodeDecodeError):
        return False
    return first == SAMPLE_README_TITLE


command = sample
