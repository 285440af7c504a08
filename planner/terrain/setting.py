"""A study area's terrain: the DEM's heights and the stairs, applied at assessment time.

Heights are sampled once when the area is loaded (:func:`load_terrain`); the costs are
built when the walking speed is known (:meth:`Terrain.network`), because stairs' seconds
become flat-equivalent metres at that speed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from planner.reach import CompiledNetwork
from planner.terrain.dem import STATION_SPACING_M, EdgeElevations, sample_edges
from planner.terrain.speed import StepsRule


@dataclass
class Terrain:
    """Heights along the edges, the stairs, and whether stairs may be used.

    Attributes
    ----------
    elevations
        Heights along every edge, or ``None`` (flat; stairs only).
    steps
        Boolean per edge: ``highway=steps``.
    no_steps
        Remove stairs (wheelchair, walker).
    dem
        The DEM file, for reports.
    rule
        Stair penalties.
    """

    elevations: EdgeElevations | None
    steps: np.ndarray
    no_steps: bool = False
    dem: Path | None = None
    rule: StepsRule = field(default_factory=StepsRule)

    def network(self, net: CompiledNetwork, *, speed_m_s: float) -> CompiledNetwork:
        """The network with this terrain's directed costs at the flat speed ``speed_m_s``."""
        from planner.terrain import terrain_network  # noqa: PLC0415  (package imports this)

        return terrain_network(net, elevations=self.elevations, steps=self.steps,
                               speed_m_s=speed_m_s, no_steps=self.no_steps, rule=self.rule)

    def notes(self) -> list[str]:
        """Lines every report shows about the terrain."""
        lines = []
        dem_name = self.dem.name if self.dem is not None else "?"
        if self.elevations is not None:
            lines.append(
                f"地形：坡度按 Tobler 步行函数（老年人下坡不加速）计入步行时间，"
                f"DEM {dem_name} / "
                f"terrain: walking time by slope from DEM {dem_name} (Tobler's hiking "
                "function scaled to the profile's speed, no downhill gain); distances are "
                "flat-equivalent metres (time × walking speed)")
        n_steps = int(self.steps.sum())
        if self.no_steps:
            lines.append(f"无台阶：{n_steps} 段台阶路不可通行 / no steps: {n_steps} stair "
                         "edges removed (wheelchair / walker)")
        elif n_steps:
            lines.append(
                f"台阶：{n_steps} 段，按每米高差计时 / stairs: {n_steps} edges, "
                f"{self.rule.up_s_per_m} s per metre climbed, {self.rule.down_s_per_m} s per "
                "metre descended (assumption)")
        if self.elevations is not None and self.elevations.missing:
            lines.append(f"DEM 缺值 {self.elevations.missing:,} 处，按同一路段最近值填补 / "
                         f"{self.elevations.missing:,} points along roads had no DEM height; "
                         "filled from the nearest height on the same edge")
        return lines


def load_terrain(
    net: CompiledNetwork,
    *,
    dem: str | Path | None = None,
    network: str | Path | None = None,
    network_crs: str = "wgs84",
    no_steps: bool = False,
    spacing_m: float = STATION_SPACING_M,
) -> Terrain:
    """Sample the DEM along the network and find its stairs.

    Parameters
    ----------
    net
        The compiled network.
    dem
        Raster of heights (metres), any CRS; ``None`` for stairs only.
    network
        The network's source file, read for ``highway=steps``.
    network_crs
        Declared CRS of a road-line network file.
    no_steps
        Remove stairs.
    spacing_m
        Largest distance between height stations along an edge (metres).
    """
    elevations = sample_edges(net, dem, spacing_m=spacing_m) if dem is not None else None
    if network is not None:
        from planner.terrain.steps import read_steps_mask  # noqa: PLC0415

        steps = read_steps_mask(net, network, crs=network_crs)
    else:
        steps = np.zeros(net.n_edges, dtype=bool)
    return Terrain(elevations, steps, no_steps=no_steps,
                   dem=Path(dem) if dem is not None else None)
