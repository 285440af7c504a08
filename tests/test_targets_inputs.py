"""The optional columns the targets need are read (with Chinese headers) and checked."""

from __future__ import annotations

import pandas as pd

from planner.io import read_communities, read_facilities


def test_optional_target_columns_are_read(tmp_path):
    comm = tmp_path / "communities.csv"
    comm.write_text(
        "小区编号,户数,社区,街道,街道类型,统筹组,lon,lat\n"
        "a,100,Q1,S1,街道,G1,112.75,37.69\n"
        "b,50,Q1,T1,镇,,112.751,37.691\n", encoding="utf-8")
    fac = tmp_path / "facilities.csv"
    fac.write_text(
        "设施编号,设施类型,建筑面积,床位数,护理型床位,开业年份,级别,配建小区,status,lon,lat\n"
        "F1,乡镇养老服务中心,800,30,12,2026,乡镇,a,规划,112.75,37.69\n"
        "F2,养老院,900,60,20,,县级,,现状,112.751,37.691\n"
        "F3,养老院,900,60,20,,省级,,现状,112.751,37.691\n", encoding="utf-8")
    c = read_communities(comm).data
    assert c["shequ"].tolist() == ["Q1", "Q1"]
    assert c["street_type"].tolist() == ["street", "township"]
    assert c.loc["a", "pooling_group"] == "G1" and pd.isna(c.loc["b", "pooling_group"])
    loaded = read_facilities(fac)
    f = loaded.data
    assert f.loc["F1", "opening_year"] == 2026 and pd.isna(f.loc["F2", "opening_year"])
    assert f["level"].tolist()[:2] == ["township", "county"]
    assert f.loc["F1", "nursing_beds"] == 12
    assert f.loc["F1", "serves_community_id"] == "a"
    # an unknown level is not dropped silently: the row goes to the rejects with the reason
    bad = loaded.rejects
    assert bad["column"].tolist() == ["level"] and "省级" in str(bad["value"].iloc[0])


def test_files_without_them_gain_no_column(tmp_path):
    comm = tmp_path / "communities.csv"
    comm.write_text("community_id,households,lon,lat\na,100,112.75,37.69\n", encoding="utf-8")
    c = read_communities(comm).data
    assert not {"shequ", "street_type", "county", "pooling_group"} & set(c.columns)
