"""Tests of planner.standards: the city profiles against the digest and the seed texts."""

# Expected report text uses full-width Chinese punctuation and en dashes on purpose.

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner._errors import InputError, UnknownProfileError
from planner.standards import (
    MEASURES,
    PROFILE_DIR,
    TARGET_METRICS,
    UNITS,
    Profile,
    circle_distance_m,
    circle_minutes,
    counts_towards_area,
    facility_minimum_m2,
    infer_status,
    list_profiles,
    load_profile,
    range_position,
    required_m2,
    required_m2_per_100hh,
    status_basis,
)
from tests.conftest import SEEDS

CITIES = ["changji", "chishui", "jinzhong", "wanzhou", "yangjiang"]


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return {name: load_profile(name) for name in list_profiles()}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


SIXTH = """
[profile]
name = "sixthcity"
name_zh = "第六市"
inherits = "national"

[documents.doc6]
title = "第六市养老服务设施配建办法"

[area_per_100hh.new]
min_m2 = 25
source = { doc = "doc6", clause = "art. 3", quote = "每百户不低于25平方米" }

[circle_minutes.rural]
value = 20
source = { doc = "doc6", clause = "art. 4" }

[[targets]]
id = "urban"
metric = "urban_communities_covered"
threshold = 0.95
label_zh = "城市社区覆盖率"
label_en = "urban communities covered"
source = { doc = "doc6", clause = "art. 5" }
"""


# --------------------------------------------------------------------------- bundled files


def test_list_profiles_is_the_six_shipped_files():
    assert list_profiles() == ["changji", "chishui", "jinzhong", "national", "wanzhou", "yangjiang"]


def test_each_file_name_matches_its_profile_name(profiles):
    for name, profile in profiles.items():
        assert profile.name == name
        assert profile.path == PROFILE_DIR / f"{name}.toml"


def test_cities_inherit_from_national(profiles):
    for city in CITIES:
        assert profiles[city].chain == (city, "national")
    assert profiles["national"].chain == ("national",)


def test_national_values(profiles):
    p = profiles["national"]
    assert p.area_per_100hh["new"].min_m2 == 20
    assert p.area_per_100hh["old"].min_m2 == 15
    assert p.area_per_100hh["new"].source.doc == "jianbiao-2014-23"
    assert p.walking_speed_m_s.value == 1.0
    assert p.walking_speed_m_s.assumption
    assert p.circle_minutes["urban"].value == 15
    assert p.circle_minutes["urban"].source.doc == "GB50180-2018"
    assert p.new_build_from_year.value == 2014
    assert p.new_build_from_year.assumption
    assert p.land_per_resident_m2.value == 0.1
    assert set(p.area_counted_kinds.kinds) == {
        "station",
        "day_care",
        "street_centre",
        "township_centre",
        "mutual_aid",
    }
    assert not p.targets
    # National states everything itself.
    assert not any(item.inherited for _, item in p.items())


def test_fifteen_minutes_at_one_metre_per_second_is_900_m(profiles):
    assert circle_distance_m("urban", profiles["national"]) == pytest.approx(900.0)
    assert circle_distance_m("rural", profiles["wanzhou"]) == pytest.approx(1500.0)


def test_jinzhong(profiles):
    p = profiles["jinzhong"]
    new, old = p.area_per_100hh["new"], p.area_per_100hh["old"]
    assert (new.min_m2, new.max_m2, new.inherited, new.origin) == (30, None, False, "jinzhong")
    assert (old.min_m2, old.inherited, old.origin) == (15, True, "national")
    assert new.source.doc == "004"
    assert new.source.clause == "item 5"
    assert p.circle_minutes["urban"].value == 15
    assert not p.circle_minutes["urban"].inherited
    assert p.circle_minutes["rural"].inherited
    assert p.land_per_resident_m2.value == 0.1
    assert not p.land_per_resident_m2.inherited
    assert p.new_build_from_year.value == 2023
    assert p.new_build_from_year.assumption
    # 004 item 6 counts townships and streets (乡镇(街道)), converted nursing homes included
    centres = p.targets["township_centres"]
    assert centres.metric == "townships_and_streets_with_regional_centre"
    assert (centres.unit, centres.filter, centres.due) == ("street", (), "2025")
    assert "nursing_home@township" in centres.kinds
    assert p.targets["township_centres"].threshold == 0.6


def test_wanzhou(profiles):
    p = profiles["wanzhou"]
    new = p.area_per_100hh["new"]
    assert (new.min_m2, new.max_m2, new.inherited) == (20, 30, False)
    assert p.area_per_100hh["old"].inherited
    assert p.area_per_100hh["old"].min_m2 == 15
    assert p.circle_minutes["urban"].value == 15
    assert p.circle_minutes["rural"].value == 25
    assert not p.circle_minutes["rural"].inherited
    station = p.facility_min_m2["station"]
    assert (station.min_m2, station.min_m2_small) == (300, 200)
    assert p.facility_min_m2["street_centre"].min_m2 == 1500
    assert p.facility_min_m2["township_centre"].min_m2 == 800
    assert p.walking_speed_m_s.inherited


def test_yangjiang_default_reading_is_per_100_households(profiles):
    p = profiles["yangjiang"]
    new = p.area_per_100hh["new"]
    assert new.unit_as_written == "per_household"
    assert new.reading == "per_100_households"
    assert new.min_m2 == 20
    assert new.written_min_m2 == 20
    assert p.area_per_100hh["old"].min_m2 == 15
    assert not p.area_per_100hh["old"].inherited


def test_yangjiang_literal_reading_is_2000_per_100_households(profiles):
    p = profiles["yangjiang"]
    literal = p.with_reading("literal")
    assert literal.area_per_100hh["new"].min_m2 == 2000
    assert literal.area_per_100hh["new"].reading == "literal"
    assert literal.area_per_100hh["old"].min_m2 == 15  # written per 100 households already
    assert p.area_per_100hh["new"].min_m2 == 20  # the original is unchanged (frozen)
    assert required_m2(1000, "new", literal) == pytest.approx(20_000)
    assert required_m2(1000, "new", p) == pytest.approx(200)
    back = literal.with_reading("per_100_households")
    assert back.area_per_100hh["new"].min_m2 == 20


def test_with_reading_for_one_status_only(profiles):
    p = profiles["yangjiang"].with_reading("literal", status="old")
    assert p.area_per_100hh["new"].min_m2 == 20


def test_with_reading_rejects_unknown_reading(profiles):
    with pytest.raises(InputError, match="reading"):
        profiles["yangjiang"].with_reading("per_person")


def test_yangjiang_targets(profiles):
    targets = {t.metric: t.threshold for t in profiles["yangjiang"].targets.values()}
    assert targets == {
        "urban_communities_covered": 1.0,
        "rural_communities_covered": 0.6,
        "streets_with_street_centre": 1.0,
        "communities_with_day_care": 0.9,
        "new_estates_allocation_compliant": 1.0,  # 001 二 (added: missing before)
        "nursing_bed_share": 0.5,  # 001 六 (added)
        "counties_with_county_institution": 1.0,  # 001 三 (added)
    }


def test_changji(profiles):
    p = profiles["changji"]
    targets = {t.metric: t.threshold for t in p.targets.values()}
    assert targets == {
        "urban_communities_covered": 1.0,
        "rural_communities_covered": 0.6,
        "streets_with_street_centre": 1.0,
        "communities_with_day_care": 0.8,
    }
    assert p.area_per_100hh["new"].min_m2 == 20
    assert p.area_per_100hh["new"].inherited
    assert p.area_per_100hh["new"].origin == "national"
    assert p.land_per_resident_m2.source.doc == "000"
    assert not p.land_per_resident_m2.inherited


def test_chishui_inherits_every_standard(profiles):
    p = profiles["chishui"]
    assert all(item.inherited and item.origin == "national" for _, item in p.items())
    assert p.area_per_100hh["new"].min_m2 == 20
    assert not p.targets
    assert any("chishui states no coverage targets" in line for line in p.choices())


def test_every_target_uses_the_fixed_vocabulary(profiles):
    assert set(TARGET_METRICS) == {
        "urban_communities_covered",
        "rural_communities_covered",
        "communities_with_day_care",
        "streets_with_street_centre",
        "townships_with_township_centre",
    }
    for p in profiles.values():
        for t in p.targets.values():
            assert t.measure in MEASURES  # targets are data: measure, unit, kinds, reading
            assert t.unit in UNITS
            assert 0 <= t.threshold <= 1


def _squash(text: str) -> str:
    """Drop whitespace and unify half-/full-width punctuation so quotes compare by content."""
    table = str.maketrans("，；：（）", ",;:()")
    return re.sub(r"\s+", "", text).translate(table)


@pytest.mark.parametrize("city", CITIES)
def test_city_quotes_occur_in_the_seed_document(profiles, city):
    p = profiles[city]
    for key, item in p.items():
        if item.inherited:
            continue
        doc = p.documents[item.source.doc]
        seed = _squash((SEEDS / doc.file).read_text(encoding="utf-8"))
        assert item.source.quote, f"{city} {key} has no quote"
        assert _squash(item.source.quote) in seed, f"{city} {key}: quote not in {doc.file}"


def test_every_value_has_a_source(profiles):
    for p in profiles.values():
        for key, item in p.items():
            assert item.source.doc in p.documents, key
            assert item.source.clause, key
            assert item.source.doc_title == p.documents[item.source.doc].title


# --------------------------------------------------------------------------- choices, to_dict


def test_yangjiang_choices_mention_the_reading(profiles):
    text = "\n".join(profiles["yangjiang"].choices())
    assert "每户不低于20平方米" in text
    assert "read as per 100 households" in text
    assert "2,000 m² per 100 households" in text


def test_yangjiang_literal_choices_say_literal(profiles):
    text = "\n".join(profiles["yangjiang"].with_reading("literal").choices())
    assert "read literally" in text
    assert "2,000 m² per 100 households" in text


def test_wanzhou_choices_mention_the_range_and_inherited_floor(profiles):
    lines = profiles["wanzhou"].choices()
    assert any("20–30 m² per 100 households" in line for line in lines)
    inherited = [line for line in lines if "inherited from national" in line]
    assert len(inherited) == 1
    assert "old district / built-up 15 m² per 100 households" in inherited[0]
    assert "继承自national" in inherited[0]


def test_choices_mention_the_assumed_cutoff_year_and_speed(profiles):
    text = "\n".join(profiles["jinzhong"].choices())
    assert "new-build from completion year 2023" in text
    assert "walking speed 1.0 m/s" in text
    assert "假设" in text


def test_to_dict_is_json_and_flags_inheritance(profiles):
    d = json.loads(json.dumps(profiles["jinzhong"].to_dict(), ensure_ascii=False))
    old, new = d["area_per_100hh"]["old"], d["area_per_100hh"]["new"]
    assert (old["inherited"], old["inherited_from"], old["min_m2_per_100hh"]) == (
        True,
        "national",
        15,
    )
    assert (new["inherited"], new["inherited_from"], new["min_m2_per_100hh"]) == (False, None, 30)
    assert new["source"]["doc"] == "004"
    assert str(profiles["jinzhong"].area_per_100hh["new"].source).startswith("004 item 5: 「")
    assert "每百户建筑面积不低于30平方米" in new["source"]["text"]
    assert d["targets"][0]["threshold"] == 0.6
    assert d["choices"] == profiles["jinzhong"].choices()


# --------------------------------------------------------------------------- user files


def test_sixth_city_loads_from_a_file_without_code(tmp_path):
    p = load_profile(_write(tmp_path / "sixthcity.toml", SIXTH))
    assert p.name == "sixthcity"
    assert p.chain == ("sixthcity", "national")
    assert (p.area_per_100hh["new"].min_m2, p.area_per_100hh["new"].inherited) == (25, False)
    assert (p.area_per_100hh["old"].min_m2, p.area_per_100hh["old"].inherited) == (15, True)
    assert p.circle_minutes["rural"].value == 20
    assert p.circle_minutes["urban"].origin == "national"
    assert p.targets["urban"].threshold == 0.95
    assert required_m2(200, "new", p) == pytest.approx(50)


def test_a_string_path_works_too(tmp_path):
    path = _write(tmp_path / "sixthcity.toml", SIXTH)
    assert load_profile(str(path)).name == "sixthcity"


def test_inheritance_is_recursive_through_a_user_file(tmp_path):
    _write(tmp_path / "sixthcity.toml", SIXTH)
    child = _write(
        tmp_path / "district.toml",
        """
[profile]
name = "district"
inherits = "sixthcity.toml"

[new_build_from_year]
value = 2018
source = { doc = "doc6", clause = "art. 9" }
""",
    )
    p = load_profile(child)
    assert p.chain == ("district", "sixthcity", "national")
    new, old = p.area_per_100hh["new"], p.area_per_100hh["old"]
    assert (new.min_m2, new.inherited, new.origin) == (25, True, "sixthcity")
    assert (old.inherited, old.origin) == (True, "national")
    assert p.targets["urban"].inherited
    assert p.new_build_from_year.value == 2018
    assert not p.new_build_from_year.inherited
    assert infer_status([2017, 2018], None, p).tolist() == ["old", "new"]


def test_inheritance_cycle_names_the_files(tmp_path):
    head = '[profile]\nname = "{}"\ninherits = "{}"\n'
    a = _write(tmp_path / "a.toml", head.format("a", "b.toml"))
    _write(tmp_path / "b.toml", head.format("b", "a.toml"))
    with pytest.raises(InputError, match="cycle") as e:
        load_profile(a)
    assert "a.toml" in str(e.value)
    assert "b.toml" in str(e.value)
    assert "profile.inherits" in str(e.value)


def test_unknown_profile_lists_the_available_ones():
    with pytest.raises(UnknownProfileError) as e:
        load_profile("shenzhen")
    msg = str(e.value)
    assert "'shenzhen'" in msg
    for name in list_profiles():
        assert name in msg
    assert ".toml" in msg
    assert isinstance(e.value, InputError)


def test_missing_file_is_an_unknown_profile(tmp_path):
    with pytest.raises(UnknownProfileError, match="No profile file"):
        load_profile(tmp_path / "nowhere.toml")


_AREA = '[area_per_100hh.new]\n{}\nsource = {{ doc = "doc6", clause = "x" }}\n'
_HEAD = '[profile]\nname = "bad"\ninherits = "national"\n[documents.doc6]\ntitle = "t"\n'
_TARGET = (
    '[[targets]]\nid = "t"\nmetric = "{}"\nthreshold = {}\nlabel_zh = "z"\nlabel_en = "e"\n'
    'source = {{ doc = "doc6", clause = "x" }}\n'
)


@pytest.mark.parametrize(
    ("body", "key", "value"),
    [
        (_AREA.format(""), "area_per_100hh.new.min_m2", None),
        (_AREA.format('min_m2 = "thirty"'), "area_per_100hh.new.min_m2", "'thirty'"),
        (_AREA.format("min_m2 = -5"), "area_per_100hh.new.min_m2", "-5"),
        (_AREA.format("min_m2 = 30\nmax_m2 = 20"), "area_per_100hh.new.max_m2", "20"),
        (
            _AREA.format('min_m2 = 20\nreading = "sideways"'),
            "area_per_100hh.new.reading",
            "sideways",
        ),
        (_TARGET.format("happy_elders", 0.5), "targets[0].metric", "'happy_elders'"),
        (_TARGET.format("urban_communities_covered", 60), "targets[0].threshold", "60"),
        (
            '[facility_min_m2.hospital]\nmin_m2 = 5\nsource = { doc = "doc6", clause = "x" }\n',
            "facility_min_m2.hospital",
            "'hospital'",
        ),
        (
            '[area_counted_kinds]\nkinds = ["station", "spa"]\n'
            'source = { doc = "doc6", clause = "x" }\n',
            "area_counted_kinds.kinds",
            "'spa'",
        ),
        (
            '[walking_speed_m_s]\nvalue = 1.1\nsource = { doc = "nope", clause = "x" }\n',
            "walking_speed_m_s.source.doc",
            "'nope'",
        ),
        (
            '[walking_speed_m_s]\nvalue = 1.1\nsource = "a string"\n',
            "walking_speed_m_s.source",
            "'a string'",
        ),
        ("[walking_speed_m_s]\nvalu = 1.1\n", "walking_speed_m_s.valu", None),
        ("[circle_minute.urban]\nvalue = 10\n", "(top level).circle_minute", None),
        ("[circle_minutes.suburban]\nvalue = 10\n", "circle_minutes.suburban", None),
    ],
)
def test_malformed_file_names_file_key_and_value(tmp_path, body, key, value):
    path = _write(tmp_path / "bad.toml", _HEAD + body)
    with pytest.raises(InputError) as e:
        load_profile(path)
    msg = str(e.value)
    assert str(path) in msg
    assert key in msg
    if value is not None:
        assert value in msg
    assert "docs/standards.md" in msg


def test_root_profile_missing_a_required_key(tmp_path):
    path = _write(tmp_path / "root.toml", '[profile]\nname = "root"\n')
    with pytest.raises(InputError, match="missing key 'walking_speed_m_s'") as e:
        load_profile(path)
    assert str(path) in str(e.value)
    assert 'inherits = "national"' in str(e.value)


def test_bad_toml_syntax_names_the_file(tmp_path):
    path = _write(tmp_path / "broken.toml", "[profile\nname = 'x'\n")
    with pytest.raises(InputError, match="not valid TOML") as e:
        load_profile(path)
    assert str(path) in str(e.value)


def test_new_build_year_must_be_whole(tmp_path):
    body = '[new_build_from_year]\nvalue = 2014.5\nsource = { doc = "doc6", clause = "x" }\n'
    path = _write(tmp_path / "bad.toml", _HEAD + body)
    with pytest.raises(InputError, match=r"new_build_from_year\.value"):
        load_profile(path)


# --------------------------------------------------------------------------- helpers


def test_required_m2_worked_by_hand(profiles):
    jinzhong = profiles["jinzhong"]
    assert required_m2(250, "old", jinzhong) == pytest.approx(15 * 250 / 100)  # 37.5
    assert required_m2(250, "new", jinzhong) == pytest.approx(30 * 250 / 100)  # 75.0
    out = required_m2(np.array([100, 250, 40]), np.array(["new", "old", "new"]), jinzhong)
    np.testing.assert_allclose(out, [30.0, 37.5, 12.0])


def test_required_m2_per_100hh_scalar_and_array(profiles):
    assert required_m2_per_100hh("new", profiles["wanzhou"]) == 20  # lower end of 20–30
    assert isinstance(required_m2_per_100hh("old", profiles["national"]), float)
    out = required_m2_per_100hh(pd.Series(["old", "new"]), profiles["jinzhong"])
    np.testing.assert_array_equal(out, [15.0, 30.0])


def test_required_m2_per_100hh_rejects_bad_and_missing_status(profiles):
    with pytest.raises(InputError, match="'brand-new'"):
        required_m2_per_100hh(["new", "brand-new"], profiles["national"])
    with pytest.raises(InputError, match="infer_status"):
        required_m2_per_100hh(["new", None], profiles["national"])


def test_infer_status_rules(profiles):
    national = profiles["national"]
    years = [2024, 2014, 2013, None, np.nan, 2010, None]
    status = ["old", None, "", None, np.nan, "NEW", "new"]
    out = infer_status(years, status, national)
    # explicit wins; 2014 is the cut-off (new); 2013 old; missing both -> old; case-insensitive.
    assert out.tolist() == ["old", "new", "old", "old", "old", "new", "new"]
    basis = status_basis(years, status)
    assert basis.tolist() == [
        "status",
        "completion_year",
        "completion_year",
        "default",
        "default",
        "status",
        "status",
    ]


def test_infer_status_uses_the_city_cutoff(profiles):
    years = pd.Series([2016, 2022, 2023], dtype="Int64")
    assert infer_status(years, None, profiles["jinzhong"]).tolist() == ["old", "old", "new"]
    assert infer_status(years, None, profiles["national"]).tolist() == ["new", "new", "new"]


def test_infer_status_with_status_only(profiles):
    out = infer_status(None, pd.Series(["new", None]), profiles["national"])
    assert out.tolist() == ["new", "old"]


def test_infer_status_rejects_bad_values(profiles):
    with pytest.raises(InputError, match="completion_year"):
        infer_status(["2015", "soon"], None, profiles["national"])
    with pytest.raises(InputError, match="status"):
        infer_status(None, ["new", "middling"], profiles["national"])
    with pytest.raises(InputError, match="completion_year or status"):
        infer_status(None, None, profiles["national"])


def test_circle_minutes(profiles):
    wanzhou = profiles["wanzhou"]
    out = circle_minutes(["urban", "rural", None, "Rural"], wanzhou)
    np.testing.assert_array_equal(out, [15.0, 25.0, 15.0, 25.0])
    assert circle_minutes("rural", profiles["jinzhong"]) == 15  # inherited from national
    with pytest.raises(InputError, match="area_type"):
        circle_minutes(["suburban"], wanzhou)


def test_range_position_texts(profiles):
    wanzhou = profiles["wanzhou"]
    assert range_position(22, "new", wanzhou) == "22.0 within 20–30 (wanzhou new-build range)"
    assert range_position(19.9, "new", wanzhou) == "19.9 below 20 (wanzhou new-build range)"
    assert range_position(20, "new", wanzhou).startswith("20.0 within 20–30")
    assert range_position(31, "new", wanzhou) == "31.0 above 20–30, meets (wanzhou new-build range)"
    assert (
        range_position(16, "old", wanzhou)
        == "16.0 meets ≥ 15 (national old district / built-up minimum, inherited)"
    )
    out = range_position(np.array([10.0, np.nan]), ["old", "new"], wanzhou)
    assert out[0].startswith("10.0 below 15")
    assert out[1].startswith("no value")


def test_counts_towards_area_excludes_nursing_homes(profiles):
    out = counts_towards_area(["station", "nursing_home", "day_care"], profiles["changji"])
    assert out.tolist() == [True, False, True]
    assert counts_towards_area("nursing_home", profiles["national"]) is False


def test_facility_minimum(profiles):
    wanzhou = profiles["wanzhou"]
    out = facility_minimum_m2(["station", "township_centre", "day_care"], wanzhou)
    # 800 m² (township centre) is a subsidy threshold, not a minimum size (002 item 17)
    assert out[:2].tolist()[0] == 300.0
    assert math.isnan(out[1])
    assert math.isnan(out[2])
    assert facility_minimum_m2("station", wanzhou, few_elderly=True) == 200
    assert math.isnan(facility_minimum_m2("station", profiles["national"]))
