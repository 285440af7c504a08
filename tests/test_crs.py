"""Tests of planner.crs: GCJ-02/BD-09 maths, declared CRSs, metric CRS."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from planner import crs
from planner._errors import CRSError
from tests.conftest import SHARED_DATA

DATA = SHARED_DATA
GEOD = pyproj.Geod(ellps="WGS84")


def metres(lon1, lat1, lon2, lat2):
    """Geodesic distance(s) in metres."""
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


# Published pairs. googollee/eviltransform python/test.py (commit 3416646):
# (wgs lat, wgs lon, gcj lat, gcj lon), Shanghai, Shenzhen, Beijing.
EVIL_WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]
# wandergis/coordtransform test/app.js: all four functions at (116.404, 39.915).
COORDTRANSFORM = {
    "bd09_to_gcj02": (116.39762729119315, 39.90865673957631),
    "gcj02_to_bd09": (116.41036949371029, 39.92133699351021),
    "wgs84_to_gcj02": (116.41024449916938, 39.91640428150164),
}


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVIL_WGS_GCJ)
def test_wgs84_to_gcj02_matches_published_pairs(wlat, wlon, glat, glon):
    lon, lat = crs.wgs84_to_gcj02(wlon, wlat)
    # eviltransform uses a = 6378137 instead of Krasovsky's 6378245: < 1 cm apart
    assert metres(lon, lat, glon, glat) < 0.05


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), EVIL_WGS_GCJ)
def test_gcj02_to_wgs84_inverts_published_pairs(wlat, wlon, glat, glon):
    lon, lat = crs.gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat) < 0.05


@pytest.mark.parametrize(("name", "expected"), COORDTRANSFORM.items())
def test_coordtransform_reference_values(name, expected):
    lon, lat = getattr(crs, name)(116.404, 39.915)
    assert float(lon) == pytest.approx(expected[0], abs=1e-9)
    assert float(lat) == pytest.approx(expected[1], abs=1e-9)


def test_exact_inverse_beats_one_step_approximation():
    # coordtransform's gcj02towgs84(116.404, 39.915) is the one-step approximation
    one_step = (116.39775550083061, 39.91359571849836)
    lon, lat = crs.gcj02_to_wgs84(116.404, 39.915)
    fwd = crs.wgs84_to_gcj02(lon, lat)
    assert abs(fwd[0] - 116.404) < 1e-7
    assert abs(fwd[1] - 39.915) < 1e-7
    assert 0.01 < metres(lon, lat, *one_step) < 5


def test_round_trips_on_a_grid_over_china():
    lon, lat = np.meshgrid(np.linspace(75, 134, 40), np.linspace(5, 53, 40))
    back = crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(lon, lat))
    assert np.max(np.abs(back[0] - lon)) < 1e-7
    assert np.max(np.abs(back[1] - lat)) < 1e-7
    # the public BD-09 inverse is itself approximate: a few decimetres at worst
    back = crs.bd09_to_wgs84(*crs.wgs84_to_bd09(lon, lat))
    assert np.max(metres(back[0], back[1], lon, lat)) < 0.5
    assert back[0].shape == lon.shape


def test_offset_magnitude_beijing_shanghai():
    for lon, lat in [(116.397, 39.909), (121.4737, 31.2304)]:
        glon, glat = crs.wgs84_to_gcj02(lon, lat)
        assert 300 < metres(lon, lat, glon, glat) < 700
        blon, blat = crs.gcj02_to_bd09(glon, glat)
        assert 500 < metres(lon, lat, blon, blat) < 1500


def test_bd09_chain_equals_two_steps():
    lon, lat = np.array([116.41, 121.47]), np.array([39.92, 31.23])
    direct = crs.bd09_to_wgs84(lon, lat)
    two = crs.gcj02_to_wgs84(*crs.bd09_to_gcj02(lon, lat))
    np.testing.assert_allclose(direct, two, atol=0)


def test_outside_china_unchanged():
    lon = np.array([2.35, -74.0, 151.2])
    lat = np.array([48.85, 40.7, -33.9])
    for func in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84, crs.bd09_to_wgs84, crs.wgs84_to_bd09):
        out = func(lon, lat)
        np.testing.assert_array_equal(out[0], lon)
        np.testing.assert_array_equal(out[1], lat)


def test_nan_passes_through():
    lon, _ = crs.gcj02_to_wgs84(np.array([np.nan, 116.4]), np.array([np.nan, 39.9]))
    assert np.isnan(lon[0])
    assert np.isfinite(lon[1])


def test_iacc_points_agree_with_independent_implementation():
    """PROVENANCE: lon_wgs84/lat_wgs84 were computed by an independent inverse."""
    table = pd.read_csv(DATA / "shanghai_central" / "iacc_org_points.csv").dropna(
        subset=["lng_gcj02", "lat_gcj02"]
    )
    assert len(table) == 71
    lon, lat = crs.gcj02_to_wgs84(table["lng_gcj02"].to_numpy(), table["lat_gcj02"].to_numpy())
    dist = metres(lon, lat, table["lon_wgs84"].to_numpy(), table["lat_wgs84"].to_numpy())
    assert np.max(dist) < 0.5
    shift = metres(lon, lat, table["lng_gcj02"].to_numpy(), table["lat_gcj02"].to_numpy())
    assert np.all((shift > 200) & (shift < 800))


def test_lianjia_beijing_bd09_offsets():
    """BD-09 -> GCJ-02 moves ~0.85 km, GCJ-02 -> WGS84 a further 500-600 m: ~1.3 km total.

    The 500-800 m quoted in the brief/PROVENANCE is the GCJ-02 step only; the whole
    BD-09 -> WGS84 shift in Beijing is 1.29-1.39 km for all 4,851 rows.
    """
    table = pd.read_csv(DATA / "beijing" / "lianjia_xiaoqu_beijing.csv")
    bx, by = table["longitude"].to_numpy(), table["latitude"].to_numpy()
    gx, gy = crs.bd09_to_gcj02(bx, by)
    wx, wy = crs.gcj02_to_wgs84(gx, gy)
    step_bd = metres(bx, by, gx, gy)
    step_gcj = metres(gx, gy, wx, wy)
    total = metres(bx, by, wx, wy)
    assert np.all((step_bd > 800) & (step_bd < 950))
    assert np.all((step_gcj > 500) & (step_gcj < 800))
    assert np.all((total > 1200) & (total < 1450))


def test_to_wgs84_transforms_every_vertex():
    line = LineString([(116.40, 39.90), (116.41, 39.91), (116.42, 39.90)])
    poly = Polygon([(121.47, 31.23), (121.48, 31.23), (121.48, 31.24), (121.47, 31.23)])
    gdf = gpd.GeoDataFrame({"a": [1, 2, 3]}, geometry=[Point(116.4, 39.9), line, poly])
    out = crs.to_wgs84(gdf, "gcj02")
    assert out.crs.to_epsg() == 4326
    assert list(out["a"]) == [1, 2, 3]
    coords_in = shapely.get_coordinates(gdf.geometry.to_numpy())
    coords_out = shapely.get_coordinates(out.geometry.to_numpy())
    expected = np.column_stack(crs.gcj02_to_wgs84(coords_in[:, 0], coords_in[:, 1]))
    np.testing.assert_allclose(coords_out, expected, atol=1e-12)
    assert gdf.crs is None  # input untouched


def test_to_wgs84_accepts_a_list_of_points_and_spellings():
    out = crs.to_wgs84([Point(116.4, 39.9)], "GCJ-02")
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].x != 116.4


def test_to_wgs84_cgcs2000_is_relabelled():
    gdf = gpd.GeoDataFrame(geometry=[Point(116.4, 39.9)], crs="EPSG:4490")
    out = crs.to_wgs84(gdf, "cgcs2000")
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].equals(Point(116.4, 39.9))


def test_to_wgs84_projected_gauss_kruger():
    # CGCS2000 3-degree GK zone 39 (central meridian 117E), false easting 39,500,000 m
    geo = pyproj.Transformer.from_crs(4490, 4527, always_xy=True)
    x, y = geo.transform(116.4, 39.9)
    out = crs.to_wgs84([Point(x, y)], "EPSG:4527")
    pt = out.geometry.iloc[0]
    assert metres(pt.x, pt.y, 116.4, 39.9) < 0.01


def test_to_wgs84_file_crs_wins_over_default_but_not_over_explicit():
    gdf = gpd.GeoDataFrame(geometry=[Point(500000, 3500000)], crs="EPSG:32650")
    out = crs.to_wgs84(gdf, "wgs84")
    assert out.geometry.iloc[0].x == pytest.approx(117.0)
    with pytest.raises(CRSError, match="EPSG:32650"):
        crs.to_wgs84(gdf, "EPSG:4547")
    with pytest.raises(CRSError, match="projected"):
        crs.to_wgs84(gdf, "gcj02")


@pytest.mark.parametrize("bad", ["mars", "EPSG:999999", "", "utm"])
def test_unknown_declaration(bad):
    with pytest.raises(CRSError, match="coordinate system"):
        crs.parse_declared(bad)


@pytest.mark.parametrize(
    ("bounds", "epsg"),
    [
        ((121.46, 31.22, 121.49, 31.24), 32651),  # Shanghai
        ((116.2, 39.8, 116.6, 40.0), 32650),  # Beijing
        ((108.25, 30.75, 108.5, 30.92), 32649),  # Wanzhou
        ((86.41, 43.1, 87.59, 45.33), 32645),  # Changji
        ((151.1, -33.95, 151.3, -33.8), 32756),  # Sydney, southern hemisphere
    ],
)
def test_metric_crs_for(bounds, epsg):
    out = crs.metric_crs_for(*bounds)
    assert out.to_epsg() == epsg
    assert out.is_projected


def test_metric_crs_rejects_metres():
    with pytest.raises(CRSError):
        crs.metric_crs_for(500000, 3500000, 510000, 3510000)


def test_unknown_epsg_number_says_what_to_do():
    """EPSG:99999 is well formed but not registered: the message says so and offers names."""
    with pytest.raises(CRSError, match="not in the EPSG register") as info:
        crs.parse_declared("epsg:99999")
    assert "wgs84, cgcs2000, gcj02 or bd09" in str(info.value)
    assert "Internal Proj Error" not in str(info.value)
