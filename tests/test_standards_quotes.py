"""Every quoted clause of every profile is in the seed texts; every value is quoted or an
assumption; every target carries a deadline found in its clause (or labelled)."""

from __future__ import annotations

import re

import pytest

from planner.standards import list_profiles, load_profile
from tests.conftest import SEEDS


def _squash(text: str) -> str:
    """Drop whitespace and unify half-/full-width punctuation so quotes compare by content."""
    table = str.maketrans("，；：（）", ",;:()")
    return re.sub(r"\s+", "", text).translate(table)


SEED_TEXT = {p.name: _squash(p.read_text(encoding="utf-8")) for p in SEEDS.glob("*.txt")}


def test_the_five_seeds_are_there():
    assert len(SEED_TEXT) == 5


@pytest.mark.parametrize("name", list_profiles())
def test_every_quote_is_in_a_seed_and_every_value_quoted_or_assumed(name):
    p = load_profile(name)
    for key, item in p.items():
        quote, doc = item.source.quote, p.documents[item.source.doc]
        if quote:
            # a seed document's quote is in its own file; another document's (national) in
            # some seed that restates it word for word
            where = [doc.file] if doc.file else list(SEED_TEXT)
            assert any(_squash(quote) in SEED_TEXT[f] for f in where), (name, key, quote)
        else:
            assert item.assumption, f"{name} {key}: neither quoted nor labelled an assumption"


def test_the_unverified_national_values_are_assumptions():
    p = load_profile("national")
    for key in ("area_per_100hh.new", "area_per_100hh.old", "circle_minutes.rural",
                "new_build_from_year", "walking_speed_m_s"):
        assert dict(p.items())[key].assumption, key
    assert load_profile("wanzhou").circle_minutes["rural"].assumption  # the 25-minute circle


@pytest.mark.parametrize("name", list_profiles())
def test_every_target_has_a_deadline_read_from_its_clause_or_labelled(name):
    for t in load_profile(name).targets.values():
        assert t.due_year is not None, t.id
        if not t.due_assumption:
            assert str(t.due_year) in t.source.quote, (name, t.id, t.due, t.source.quote)


def test_the_missing_targets_are_there():
    jinzhong, wanzhou, yangjiang = (load_profile(n) for n in ("jinzhong", "wanzhou", "yangjiang"))
    assert (jinzhong.targets["full_coverage"].due, jinzhong.targets["full_coverage"].unit) == (
        "2025", "shequ")
    assert (wanzhou.targets["full_coverage"].due_year, wanzhou.targets["full_coverage"].threshold
            ) == (2021, 1.0)
    assert yangjiang.targets["new_estates_allocation"].measure == "allocation"
    assert yangjiang.targets["new_estates_allocation"].filters == {"status": "new"}
    assert (yangjiang.targets["nursing_beds"].measure, yangjiang.targets["nursing_beds"].threshold
            ) == ("bed_ratio", 0.5)
    beds = wanzhou.targets["centre_beds"]
    assert (beds.attribute, beds.at_least, set(beds.kinds)) == (
        "beds", 20, {"street_centre", "township_centre"})
    # subsidy thresholds are not minimum sizes any more
    assert not wanzhou.facility_min_m2["street_centre"].is_minimum
    assert wanzhou.facility_min_m2["station"].is_minimum
