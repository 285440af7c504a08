"""Settings for side effects only (caches and logging), in the osmnx style.

Algorithms never read these; they take explicit arguments.

cache_folder : pathlib.Path
    Where ``planner fetch`` caches downloaded networks as GraphML and where compiled
    networks (``*.reach.npz``) are stored next to them. Default ``data/cache``.
log_level : int
    Level of the ``planner`` logger. The CLI's ``-v``/``-q`` change it.
"""

from __future__ import annotations

import logging
from pathlib import Path

cache_folder: Path = Path("data/cache")
log_level: int = logging.INFO
