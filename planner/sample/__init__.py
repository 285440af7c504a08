"""A deterministic synthetic sample district, generated from a seed.

No real Chinese district can be bundled, so planner generates one and writes it as
ordinary files that the demo then reads through the same loaders as real data.

The district is laid out in local metres and placed by an exact projection (UTM zone
49N, EPSG:32649) around lon 112.75, lat 37.69 (Yuci, Jinzhong), then written in WGS84
(EPSG:4326). It is **not a real place**. Its parts, from south to north::

    +--------------------------------------+-------------+  y = height_m
    |  new-build area: 200-400 m           |             |
    |  superblocks on main roads, each a   |   rural     |
    |  gated community reached only        |   fringe:   |
    |  through 1-3 gates                   |   villages  |
    +======== north riverside road ========+=============+  y = north_road_m
    ~~~~~~~~~~~ river, 85-145 m wide, crossed only by a few bridges ~~~~~~~~~~~
    +======== south riverside road ========+=============+  y = south_road_m
    |  old town: 60-120 m jittered blocks, |   sparse    |
    |  lanes, dead-end hutongs, no gates   |   roads     |
    +--------------------------------------+-------------+  y = 0
    x = 0                                  x = east_m    x = width_m

Facilities sit in the old town and the western new-build area only, so the eastern
new-build area, the far bank of the river and most villages are left under-served.

Roads are straight two-point lines. Every line ends where it meets another line and the
end points are taken from one array of node coordinates that is transformed to WGS84
once, so shared end points are bit-identical. Only bridges cross the river.

``size`` scales the area, and so the node, community and facility counts, linearly:
the layout's width and height scale with ``sqrt(size)``. Everything is vectorised numpy;
the only Python loops run over rows of blocks and over communities, never over nodes.
"""

from __future__ import annotations

from planner.sample.district import generate_sample
from planner.sample.layout import ROAD_CLASSES, SampleDistrict
from planner.sample.writer import write_sample

__all__ = ["ROAD_CLASSES", "SampleDistrict", "generate_sample", "write_sample"]
