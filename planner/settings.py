"""Settings for side effects only (caches and logging), in the osmnx style.

Algorithms never read these; they take explicit arguments.

cache_folder : pathlib.Path or None
    Where ``planner fetch`` keeps downloaded networks (GraphML) and where compiled
    networks (``*.reach.npz``) are cached. ``None`` (default): the user's cache folder
    (``platformdirs.user_cache_dir("planner")``, e.g. ``~/.cache/planner`` on Linux,
    ``%LOCALAPPDATA%/planner/Cache`` on Windows), or, when that cannot be written,
    beside the network file. Never the working directory.
log_level : int
    Level of the ``planner`` logger. The CLI's ``-v``/``-q`` change it.
"""

from __future__ import annotations

import logging
from pathlib import Path

cache_folder: Path | None = None
log_level: int = logging.INFO
