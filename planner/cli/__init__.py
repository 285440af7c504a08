"""The ``planner`` command: a thin click group over the library.

Commands: ``run`` (assess a district), ``fetch`` (download a walking network),
``sample`` (write the synthetic sample district) and ``profiles`` (list or show the
standards profiles). Every command catches planner's own errors once, prints the
message (what is wrong, where, and what to do) and exits with code 2; ``-v`` also
prints the traceback.
"""

from __future__ import annotations

import importlib

import click

from planner.cli._common import _setup_logging


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="More detail; -v also shows tracebacks.")
@click.option("-q", "--quiet", count=True, help="Less output.")
@click.version_option(package_name="planner")
def main(verbose: int, quiet: int) -> None:
    """Check whether elderly-care facilities reach the communities they serve.

    \b
    Typical use (the synthetic sample; give your own files instead):
      planner sample --out data/sample
      planner run --profile jinzhong --out out/sample
          --network data/sample/roads.gpkg --gates data/sample/gates.csv
          --communities data/sample/communities.gpkg
          --facilities data/sample/facilities.csv
    Declare each file's coordinates (--communities-crs gcj02 for Amap data).
    See `planner run --help` for every option.
    """
    _setup_logging(verbose, quiet)



# One module per command (rasterio's `rio` pattern). A new command: add its module here.
_COMMAND_MODULES = ["run", "fetch", "sample", "profiles", "batch", "sites", "check_project", "map"]

for _name in _COMMAND_MODULES:
    _module = importlib.import_module(f"planner.cli.{_name}")
    main.add_command(_module.command)
