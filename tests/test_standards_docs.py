"""docs/standards.md is generated from the profiles and must not drift from them."""

from __future__ import annotations

from pathlib import Path

from planner.standards import list_profiles, load_profile
from planner.standards.docs import profile_section, render

DOC = Path(__file__).resolve().parents[1] / "docs" / "standards.md"


def test_docs_standards_is_up_to_date():
    # regenerate with: python -m planner.standards.docs > docs/standards.md
    assert DOC.read_text(encoding="utf-8") == render()


def test_every_rule_and_target_of_every_profile_is_in_the_docs():
    text = render()
    for name in list_profiles():
        p = load_profile(name)
        assert f"### {p.name} {p.name_zh}" in text
        for key, item in p.items():
            if key.startswith("targets."):
                assert f"`{item.id}` {item.label_en}" in text
            assert item.source.text().replace("|", "\\|") in text, (name, key)


def test_a_section_shows_the_reading_chosen_and_the_alternative():
    section = profile_section(load_profile("wanzhou"))
    row = next(line for line in section.splitlines() if line.startswith("| circle_minutes.rural"))
    assert "rural circle 25 min" in row and "**assumption**" in row
    assert "15 minutes for rural communities too" in row  # the alternative reading
    row = next(line for line in section.splitlines()
               if line.startswith("| facility_min_m2.street_centre"))
    assert "subsidy threshold (not a minimum size)" in row
