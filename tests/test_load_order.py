"""A bad communities or facilities file is reported before the network is compiled.

Compiling a big network without a cache takes minutes; a missing column in the
communities table is found in a second. ``load_study_area`` reads the layers first.
"""

from __future__ import annotations

import pandas as pd
import pytest

from planner import pipeline
from planner._errors import InputError


def test_a_bad_layer_is_reported_without_compiling_the_network(tmp_path, monkeypatch):
    def compile_network(*_a, **_k):
        raise AssertionError("the network was compiled before the layers were checked")

    monkeypatch.setattr(pipeline, "compile_network", compile_network)
    roads = tmp_path / "roads.geojson"
    roads.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    comm = tmp_path / "communities.csv"
    pd.DataFrame({"community_id": ["a"], "lon": [116.4], "lat": [39.9]}).to_csv(comm,
                                                                             index=False)
    fac = tmp_path / "facilities.csv"
    pd.DataFrame({"facility_id": ["f"], "kind": ["station"], "floor_area_m2": [300],
                  "lon": [116.4], "lat": [39.9]}).to_csv(fac, index=False)
    with pytest.raises(InputError, match="households"):
        pipeline.load_study_area(roads, comm, fac)
