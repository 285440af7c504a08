"""End to end through the CLI: a hand-worked street, the sample district, real networks."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from planner._errors import InputError
from planner.cli import main
from planner.pipeline import StudyArea, assess, load_study_area


def run_cli(args):
    return CliRunner().invoke(main, args, catch_exceptions=False)


def run_line(d, out, *extra, profile="changji", communities=None):
    """`planner run` on the line district (optionally with another communities file)."""
    return run_cli(["run", "--network", str(d["network"]), "--communities",
                    str(communities or d["communities"]), "--facilities", str(d["facilities"]),
                    "--profile", profile, "--out", str(out), *extra])


def test_line_district_by_hand(line_district, tmp_path):
    d = line_district
    out = tmp_path / "out"
    result = run_line(d, out)
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    # changji inherits the national floors: old 15, new-build 20 m² per 100 households,
    # new-build from 2014; walking 1.0 m/s, so the 15-minute circle is 900 m.
    # F1 reaches A (300 m = 5 min) and B (840 m = 14 min); C is 1,200 m = 20 min away.
    assert c.loc["A", "nearest_minutes"] == pytest.approx(5.0, abs=1e-3)
    assert c.loc["B", "nearest_minutes"] == pytest.approx(14.0, abs=1e-3)
    assert c.loc["C", "nearest_minutes"] == pytest.approx(20.0, abs=1e-3)
    # F1's 60 m² is shared by A and B: 400 households -> 15 m² per 100 households each
    assert c.loc["A", "accessible_m2_per_100hh"] == pytest.approx(15.0)
    assert c.loc["B", "accessible_m2_per_100hh"] == pytest.approx(15.0)
    assert c.loc["B", "status"] == "new"
    assert c.loc["B", "required_m2_per_100hh"] == 20
    # B needs 20 * 2 = 40 m², has 15 * 2 = 30 m²: shortfall 10 m²
    assert c.loc["B", "shortfall_m2"] == pytest.approx(10.0)
    # C: uncovered, needs 15 * 1 = 15 m²; D is 500 m from the road: unreachable, reported
    assert c["service_status"].to_dict() == {
        "A": "meets", "B": "below_standard", "C": "uncovered", "D": "unreachable"}
    assert c.loc["C", "shortfall_m2"] == pytest.approx(15.0)
    assert c.loc["A", "nearest_facility_id"] == "F1"
    assert c.loc["D", "access_points"] == 0

    summary = json.loads((out / "summary.json").read_text())
    assert summary["profile"] == "changji"
    assert summary["walking_speed_m_s"] == 1.0
    assert summary["circle_minutes"]["urban"] == 15
    # E (0 households) is rejected, not dropped silently: 5 read = 4 written + 1 rejected
    assert summary["inputs"]["communities"] == {
        "file": str(d["communities"]), "read": 5, "written": 4, "rejected": 1,
        "read_equals_written_plus_rejected": True}
    rejects = pd.read_csv(out / "rejects.csv")
    assert rejects.loc[0, "row"] == 6 and rejects.loc[0, "column"] == "households"
    targets = {t["metric"]: t for t in summary["targets"]}
    # urban communities covered: A and B of A, B, C, D = 50 % < 100 %
    assert targets["urban_communities_covered"]["value"] == pytest.approx(0.5)
    assert targets["urban_communities_covered"]["passed"] is False
    assert targets["rural_communities_covered"]["passed"] is None  # no rural communities
    assert (out / "gap_map.html").stat().st_size > 10_000
    f = pd.read_csv(out / "targets.csv")
    assert len(f) == len(summary["targets"])


def test_bad_file_names_it_and_exits_nonzero(line_district, tmp_path):
    d = line_district
    missing = tmp_path / "nope.csv"
    result = CliRunner().invoke(main, ["run", "--network", str(d["network"]), "--communities",
                                       str(missing), "--facilities", str(d["facilities"]),
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "nope.csv" in result.output


def test_unknown_profile_lists_available(line_district, tmp_path):
    d = line_district
    result = CliRunner().invoke(main, ["run", "--network", str(d["network"]), "--communities",
                                       str(d["communities"]), "--facilities",
                                       str(d["facilities"]), "--profile", "atlantis",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "atlantis" in result.output and "jinzhong" in result.output


def test_python_api_validates_hand_built_layers(line_district):
    """A notebook user building layers by hand gets the same clear errors as the CLI."""
    d = line_district
    area = load_study_area(d["network"], d["communities"], d["facilities"])
    bad = area.communities.copy()
    bad.loc["A", "households"] = 0
    with pytest.raises(InputError, match=r"households must be > 0.*'A'"):
        assess(StudyArea(area.net, bad, area.facilities), "changji")
    wrong_kind = area.facilities.assign(kind="library")
    with pytest.raises(InputError, match="library"):
        assess(StudyArea(area.net, area.communities, wrong_kind), "changji")


@pytest.mark.parametrize(("reading", "required_new"), [(None, 20.0), ("literal", 2000.0)])
def test_yangjiang_reading_is_a_visible_choice(line_district, tmp_path, reading, required_new):
    # Yangjiang writes 每户不低于20平方米 for new-builds: read by default as 20 m² per 100
    # households (a slip), literally as 20 m² per household = 2,000 m² per 100 households.
    d = line_district
    out = tmp_path / "out"
    result = run_line(d, out, *(["--reading", reading] if reading else []), profile="yangjiang")
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    assert c.loc["B", "status"] == "new"  # built 2020, Yangjiang's new-build year
    assert c.loc["B", "required_m2_per_100hh"] == required_new
    # B has 15 m² per 100 households: short by (required - 15) * 200 / 100 m²
    assert c.loc["B", "shortfall_m2"] == pytest.approx((required_new - 15.0) * 2)
    summary = json.loads((out / "summary.json").read_text())
    choices = " ".join(summary["choices"])
    assert "每户" in choices and ("literal" in choices or "per 100 households" in choices)
    assert "每户" in result.output  # the CLI prints the choice too
    html = (out / "gap_map.html").read_text(encoding="utf-8")
    assert summary["choices"][0].split(" / ")[0][:10] in html  # and so does the map


def test_land_per_resident(line_district, tmp_path):
    d = line_district
    frame = pd.read_csv(d["communities"])
    frame["residents"] = [520, 560, 270, 280, 10]
    path = tmp_path / "with_residents.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    result = run_line(d, out, "--no-map", profile="jinzhong", communities=path)
    assert result.exit_code == 0, result.output
    c = pd.read_csv(out / "communities.csv", index_col="community_id")
    # 0.1 m² of land per resident (004 item 5): A 520 residents -> 52 m²
    assert c.loc["A", "required_land_m2"] == pytest.approx(52.0)
    assert c.loc["D", "required_land_m2"] == pytest.approx(28.0)
    assert not (out / "gap_map.html").exists()


def test_circle_pairs_table(line_district, tmp_path):
    d = line_district
    out = tmp_path / "out"
    result = run_line(d, out, "--no-map")
    assert result.exit_code == 0, result.output
    pairs = pd.read_csv(out / "circle_pairs.csv")
    # F1's 900 m circle holds A (300 m) and B (840 m), not C (1,200 m)
    assert pairs[["facility_id", "community_id"]].to_numpy().tolist() == [["F1", "A"],
                                                                         ["F1", "B"]]
    assert pairs["distance_m"].to_list() == pytest.approx([300.0, 840.0], abs=0.01)
    assert pairs["minutes"].to_list() == pytest.approx([5.0, 14.0], abs=0.001)


def test_street_table(line_district, tmp_path):
    d = line_district
    out = tmp_path / "out"
    result = run_line(d, out, "--no-map")
    assert result.exit_code == 0, result.output
    streets = pd.read_csv(out / "streets.csv")
    # one street S1: A 200 meets, B 200 below, C 100 uncovered, D 100 unreachable
    row = streets.set_index("street").loc["S1"]
    assert row["communities"] == 4 and row["households"] == 600
    assert (row["households_meets"], row["households_below_standard"],
            row["households_uncovered"], row["households_unreachable"]) == (200, 200, 100, 100)
    assert row["share_households_meets"] == pytest.approx(200 / 600, abs=5e-5)  # 0.0001 in files
    # shortfall: B 10 m² + C 15 m² + D 15 m² (100 households at 15 per 100) = 40 m²
    assert row["shortfall_m2"] == pytest.approx(40.0)
