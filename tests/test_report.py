"""The HTML report, the before/after comparison, ``planner map`` and the demo's outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from planner._errors import InputError
from planner.cli import main
from planner.cli.map import write_map_extras
from planner.maps.files import planner_made
from planner.report import RunResults, compare_report, load_run, write_report
from planner.sample import write_sample
from tests.browser import go_offline, js_errors, open_file

CRS = "EPSG:32649"
X0, Y0 = 500_000.0, 2_410_000.0


def _square(dx: float, dy: float, size: float = 150.0):
    return box(X0 + dx, Y0 + dy, X0 + dx + size, Y0 + dy + size)


@pytest.fixture
def run() -> RunResults:
    """Four communities (one per status), two facilities, two streets, targets, timeline."""
    comm = gpd.GeoDataFrame(
        {
            "name": ["阳光小区", "幸福里", "老街社区", "偏远村"],
            "households": [800, 300, 1200, 150],
            "street": ["城南街道", "城南街道", "城北街道", "平冈镇"],
            "service_status": ["meets", "below_standard", "uncovered", "unreachable"],
            "nearest_facility_id": ["F1", "F2", None, None],
            "nearest_minutes": [4.25, 11.0, float("nan"), float("nan")],
            "facilities_within": [2, 1, 0, 0],
            "accessible_m2_per_100hh": [45.0, 7.5, 0.0, 0.0],
            "required_m2_per_100hh": [20.0, 20.0, 15.0, 15.0],
            "required_m2": [160.0, 60.0, 180.0, 24.0],
            "shortfall_m2": [0.0, 37.5, 180.0, 22.5],
        },
        geometry=[_square(0, 0), _square(400, 0), _square(0, 400), Point(X0 + 900, Y0 + 500)],
        index=pd.Index(["C1", "C2", "C3", "C4"], name="community_id"), crs=CRS)
    fac = gpd.GeoDataFrame(
        {"name": ["城南日间照料中心", "幸福里养老服务站"], "kind": ["day_care", "station"],
         "floor_area_m2": [600.0, 150.0], "status": ["existing", "existing"],
         "in_assessment": [True, True], "households_served": [2100.0, 300.0],
         "m2_per_100hh_served": [28.571, 50.0], "meets_min_size": [True, False]},
        geometry=[Point(X0 + 230, Y0 + 200), Point(X0 + 620, Y0 + 260)],
        index=pd.Index(["F1", "F2"], name="facility_id"), crs=CRS)
    streets = pd.DataFrame({
        "street": ["城北街道", "城南街道", "平冈镇"], "communities": [1, 2, 1],
        "households": [1200, 1100, 150], "households_uncovered": [1200, 0, 0],
        "share_households_meets": [0.0, 800 / 1100, 0.0], "shortfall_m2": [180.0, 37.5, 22.5]})
    targets = pd.DataFrame({
        "id": ["urban", "day_care"], "label_zh": ["城镇小区覆盖率", "日间照料覆盖率"],
        "label_en": ["urban communities covered", "day care"], "value": [0.615, 0.5],
        "threshold": [1.0, 0.8], "passed": [False, False], "due_year": [2022, 2099],
        "due_status": ["past due", "not yet due"], "source": ["001 §5", "000 (六)"]})
    timeline = pd.DataFrame({
        "year": [2026, 2026, 2027, 2027], "id": ["urban", "day_care"] * 2,
        "value": [0.615, 0.5, 1.0, 0.5], "passed": [False, False, True, False],
        "opened": ["", "", "F9", "F9"]})
    summary = {"profile": "yangjiang", "profile_name_zh": "阳江市", "walking_speed_m_s": 1.0,
               "circle_minutes": {"urban": 15.0}, "notes": ["合成示例数据 synthetic sample"],
               "choices": ["阳江: 新建小区按每百户20平方米解读 (per 100 households)"]}
    return RunResults(comm, fac, None, targets, summary, streets, timeline)


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("<h2>", start + 1)
    return text[start:end if end > 0 else None]


def test_report_has_every_section_with_the_numbers(run, tmp_path):
    out = write_report(run, tmp_path / "report.html", title="城南 report")
    text = out.read_text(encoding="utf-8")
    assert planner_made(out)
    summary = _section(text, "1 概况")
    assert "<td>1</td><td>800</td><td>32.7%</td>" in summary  # 800 / 2,450 households
    assert "<td>4</td><td>2,450</td><td>100%</td>" in summary
    # 0 + 37.5 + 180 + 22.5 = 240 m² short of 160 + 60 + 180 + 24 = 424 m² required
    assert "shortfall 240 m²" in summary and "of 424 m² required" in summary
    assert "synthetic sample" in summary
    assert re.search(r"<img class='map' alt='gap map' src='data:image/png;base64,", text)
    assert 'href="gap_map.html"' in text
    targets = _section(text, "3 规划目标")
    assert "61.5%" in targets and "≥ 100.0%" in targets and "2099" in targets
    assert targets.count("✗ 未达标 fail") == 1  # the 2022 target; the 2099 one is not due
    assert "未到期 not yet due" in targets
    timeline = _section(text, "4 目标时间表")
    assert ('<td class="text">2027</td><td>100.0% ✓</td><td>50.0% </td>'
            '<td class="text">F9</td>') in timeline
    streets = _section(text, "5 服务最差的街道")
    assert streets.index("城北街道") < streets.index("城南街道") < streets.index("平冈镇")
    worst = _section(text, "6 缺口最大的小区")
    # by shortfall: 老街社区 180 > 幸福里 37.5 > 偏远村 22.5; 阳光小区 (0) is not listed
    assert worst.index("老街社区") < worst.index("幸福里") < worst.index("偏远村")
    assert "阳光小区" not in worst
    loads = _section(text, "7 设施负荷")
    # most loaded first: 28.6 m² per 100 households served before 50
    assert loads.index("城南日间照料中心") < loads.index("幸福里养老服务站")
    assert "1 处设施低于最小面积" in loads and "F2" in loads
    assumptions = _section(text, "8 假设与解读")
    assert "每百户20平方米解读" in assumptions and "1 m/s" in assumptions


def test_report_never_replaces_a_users_file(run, tmp_path):
    theirs = tmp_path / "report.html"
    theirs.write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="not written by planner"):
        write_report(run, theirs, title="t")
    assert theirs.read_text(encoding="utf-8") == "mine"


def test_compare_report_before_and_after(run, tmp_path):
    after_comm = run.communities.copy()
    # C2 reaches the standard; C3 gets a circle but stays short by 30 m²
    after_comm.loc["C2", ["service_status", "shortfall_m2"]] = ["meets", 7.5]
    after_comm.loc["C3", ["service_status", "shortfall_m2"]] = ["below_standard", 30.0]
    after = RunResults(after_comm, run.facilities, None,
                       run.targets.assign(value=[0.9, 0.5]), run.summary, run.streets)
    out = compare_report(run, after, tmp_path / "compare.html")
    text = out.read_text(encoding="utf-8")
    summary = _section(text, "1 概况")
    # meets 1 → 2 communities (+1), 800 → 1,100 households (+300)
    assert re.search(r"<td>1</td><td>2</td><td><span class=\"up\">\+1</span></td>"
                     r"<td>800</td><td>1,100</td><td><span class=\"up\">\+300</span>", summary)
    # shortfall 240 → 0 + 7.5 + 30 + 22.5 = 60 m²: −180
    assert "<td>240</td><td>60</td><td><span class=\"up\">−180</span>" in summary
    assert len(re.findall(r"src='data:image/png;base64,", text)) == 2
    changes = _section(text, "4 状态变化")
    # rows before, columns after: below_standard → meets 1, uncovered → below_standard 1
    assert ('<td class="text">面积不足 below_standard</td><td>1</td><td>0</td><td>0</td>'
            "<td>0</td>") in changes
    assert ('<td class="text">未覆盖 uncovered</td><td>0</td><td>1</td><td>0</td>'
            "<td>0</td>") in changes
    # largest fall first: 老街社区 180 → 30 (150) before 幸福里 37.5 → 7.5 (30)
    assert changes.index("老街社区") < changes.index("幸福里")
    assert "61.5%" in _section(text, "3 规划目标") and "90.0%" in _section(text, "3 规划目标")
    # the web map of the later scenario outlines what changed: C2 and C3 better, none worse
    web = (tmp_path / "compare_map.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="planner-data">(.*?)</script>', web, flags=re.S).group(1))
    changes = {layer["id"]: layer for layer in data["layers"] if layer["kind"] == "change"}
    assert set(changes) == {"change-better"}
    better = {f["id"]: f["properties"] for f in changes["change-better"]["data"]["features"]}
    assert set(better) == {"C2", "C3"}
    assert better["C3"]["before"].startswith("未覆盖") and better["C3"]["after"].startswith(
        "面积不足")
    assert better["C3"]["shortfall_before"] == "180" and better["C3"]["shortfall_after"] == "30"
    fewer = RunResults(run.communities.iloc[:3], run.facilities, None, run.targets,
                       run.summary)
    with pytest.raises(InputError, match="different communities"):
        compare_report(run, fewer, tmp_path / "bad.html")


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def district_run(tmp_path_factory) -> tuple[dict[str, Path], Path, Path]:
    """The sample with 500 communities, run as `make demo` runs it (map, PNG, report)."""
    root = tmp_path_factory.mktemp("district")
    files = write_sample(root / "data", size=1.5, n_communities=500)
    out, png = root / "out", root / "maps" / "gap.png"
    result = CliRunner().invoke(main, [
        "run", "--network", str(files["roads"]), "--communities", str(files["communities"]),
        "--facilities", str(files["facilities"]), "--gates", str(files["gates"]),
        "--profile", "jinzhong", "--out", str(out), "--boundary", str(files["boundary"]),
        "--water", str(files["river"]), "--png", str(png), "--report"])
    assert result.exit_code == 0, result.output
    return files, out, png


def test_run_writes_map_png_and_report(district_run):
    _, out, png = district_run
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and planner_made(png)
    report = (out / "report.html").read_text(encoding="utf-8")
    n = len(pd.read_csv(out / "communities.csv"))
    assert n == 500
    assert f"<td>{n:,}</td>" in _section(report, "1 概况")
    html = (out / "gap_map.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="planner-data">(.*?)</script>', html, flags=re.S).group(1))
    ids = {layer["id"] for layer in data["layers"]}
    assert {"base-streets", "base-water", "base-boundary"} <= ids
    # the sample carries care columns, so the care layer (care-vulnerable) draws the
    # communities a second time; the community layers proper draw each once
    drawn = sum(layer["count"] for layer in data["layers"]
                if layer["group"] == "communities" and not layer["id"].startswith("care-"))
    assert drawn == n
    assert "care-vulnerable" in ids


def test_district_map_is_small(district_run):
    """A 500-community district with its streets, river and circles: under 5 MB."""
    out = district_run[1]
    assert (out / "gap_map.html").stat().st_size < 5_000_000


def test_planner_map_from_the_output_folder(district_run, tmp_path):
    files, out, _ = district_run
    pdf, html = tmp_path / "a3.pdf", tmp_path / "amap.html"
    result = CliRunner().invoke(main, [
        "map", str(out), "--network", str(files["roads"]), "--pdf", str(pdf),
        "--print-size", "a3", "--html", str(html), "--tiles", "amap"])
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF")
    text = html.read_text(encoding="utf-8")
    assert "data shifted to GCJ-02" in text and "autonavi" in text
    loaded = load_run(out)
    assert len(loaded.communities) == 500
    assert loaded.facilities["meets_min_size"].map(type).isin([bool, type(None)]).all()


def test_planner_map_errors_are_clear(tmp_path, district_run):
    out = district_run[1]
    runner = CliRunner()
    result = runner.invoke(main, ["map", str(tmp_path)])
    assert result.exit_code == 2
    assert "nothing to do" in result.output
    result = runner.invoke(main, ["map", str(tmp_path), "--report"])
    assert result.exit_code == 2
    assert "no summary.json" in result.output
    result = runner.invoke(main, ["map", str(out), "--png", str(tmp_path / "x.jpg")])
    assert result.exit_code == 2
    assert "ending in .png" in result.output
    result = runner.invoke(main, ["map", str(out), "--report", "--tiles", "tianditu"])
    assert result.exit_code == 2
    assert "tianditu:YOUR_KEY" in result.output


def test_a_fresh_run_removes_its_stale_report_only(run, tmp_path):
    ours = write_report(run, tmp_path / "report.html", title="earlier run")
    opts = {"report": False}
    write_map_extras(run, tmp_path, opts, base=None, title="t", data_date=None)
    assert ours.exists()  # `planner map` without --report keeps the run's report
    write_map_extras(run, tmp_path, opts, base=None, title="t", data_date=None, fresh_run=True)
    assert not ours.exists()  # a new run without --report: the old report must go
    theirs = tmp_path / "report.html"
    theirs.write_text("the user's own notes", encoding="utf-8")
    write_map_extras(run, tmp_path, opts, base=None, title="t", data_date=None, fresh_run=True)
    assert theirs.read_text(encoding="utf-8") == "the user's own notes"


def test_comparison_map_draws_the_changes(run, tmp_path, browser):
    after_comm = run.communities.copy()
    after_comm.loc["C1", ["service_status", "shortfall_m2"]] = ["below_standard", 16.0]
    after_comm.loc["C3", ["service_status", "shortfall_m2"]] = ["meets", 0.0]
    after = RunResults(after_comm, run.facilities, None, run.targets, run.summary)
    compare_report(run, after, tmp_path / "c.html")
    go_offline(browser)
    open_file(browser, tmp_path / "c_map.html", ready_js="return window.plannerReady === true")
    count = "return document.querySelectorAll({!r}).length"
    assert browser.execute_script(count.format("path.planner-change-better")) == 1  # C3
    assert browser.execute_script(count.format("path.planner-change-worse")) == 1  # C1
    dash = browser.execute_script(
        "return document.querySelector('path.planner-change-worse').getAttribute('stroke')")
    assert dash == "#c62828"
    assert js_errors(browser) == []
