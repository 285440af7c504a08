"""Recommended sites: hand-worked choices on a straight street, the optimum against every
combination on the sample, greedy against the optimiser, and the command line."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from click.testing import CliRunner

from planner._errors import InputError
from planner.cli import main
from planner.io.guard import MANIFEST_NAME
from planner.pipeline import load_study_area
from planner.sample import write_sample
from planner.scenarios import Scenario
from planner.sites import (
    build_problem,
    candidate_pairs,
    greedy,
    grid_candidates,
    read_candidates,
    recommend_sites,
    solve,
)
from planner.sites.local import local_search
from planner.sites.problem import SiteProblem, Solution, best_of, sites_needed
from planner.sites.report import SITE_FILES
from tests.conftest import METRIC, to_lonlat
from tests.test_scenarios import X0, Y0, make_line_area


@pytest.fixture(scope="module")
def street() -> Scenario:
    """The street of tests/test_scenarios.py, profile yangjiang."""
    return Scenario.from_area(make_line_area(), "yangjiang")


def _cands(xs: dict[str, float]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"kind": "station"}, index=pd.Index(list(xs), name="candidate_id"),
                            geometry=[shapely.Point(X0 + x, Y0) for x in xs.values()],
                            crs=METRIC)


# Baseline of the street (tests/test_scenarios.py): A, B meet; C (300 hh, new, x=1500) and
# D (100 hh, old, x=1950) are uncovered. Candidates:
#   K1700 reaches C (200 m) and D (250 m): 400 households in its circle;
#   K1000 reaches B (300 m) and C (500 m), not D (950 m): 400 households;
#   K300 reaches A and B (already meeting): 300 households.
CANDIDATES = {"K300": 300.0, "K1000": 1000.0, "K1700": 1700.0}


def test_coverage_by_hand(street):
    s = recommend_sites(street, _cands(CANDIDATES), k=1, model="coverage", curve=False)
    # K1700 newly covers C + D = 400 households; K1000 only C (300).
    assert list(s.sites.index) == ["K1700"]
    assert s.solution.objective == 400 and s.solution.optimal
    assert s.verified_households == 400
    assert s.sites.loc["K1700", "households_within"] == 400


def test_standard_fixed_size_by_hand(street):
    # 60 m² sites. K1700: 60 / 400 hh = 15 per 100: D (old, 15) meets, C (new, 20) does not.
    # K1000: 60 / 400 = 15 per 100 for C: short of 20. So K1700 brings 100 households.
    s = recommend_sites(street, _cands(CANDIDATES), k=1, model="standard", size_m2=60,
                        curve=False)
    assert list(s.sites.index) == ["K1700"]
    assert s.solution.objective == s.verified_households == 100
    assert s.sites.loc["K1700", "households_won"] == 100
    # both K1000 and K1700 (k = 2): C gets 15 + 15 = 30 >= 20, so C (300) joins D (100).
    two = recommend_sites(street, _cands(CANDIDATES), k=2, model="standard", size_m2=60)
    assert set(two.sites.index) == {"K1000", "K1700"}
    assert two.solution.objective == two.verified_households == 400
    assert list(two.curve["households_optimal"]) == [100, 400]


def test_capacity_sizes_by_hand(street):
    # One site, any size from 10 m² up: at K1700 C needs 20 per 100 over 400 households:
    # 20 x 400 / 100 = 80 m², which also brings D (15) to standard: 400 households, 80 m².
    result = street.result()
    cands = _cands(CANDIDATES)
    pairs = candidate_pairs(street, cands)
    problem, _ = build_problem(result, cands, pairs, model="capacity",
                               min_by_kind={"station": 10.0}, max_m2=500)
    sol = solve(problem, 1)
    assert list(problem.candidate_ids[sol.chosen]) == ["K1700"]
    assert sol.objective == 400
    assert list(sol.sizes_m2) == [80.0]
    g = greedy(problem, 1)
    assert g.objective == 400 and list(g.sizes_m2) == [80.0]


def test_set_cover_by_hand(street):
    s = recommend_sites(street, _cands(CANDIDATES), k=None, model="cover")
    assert list(s.sites.index) == ["K1700"]  # one site covers C and D
    assert s.solution.objective == 1 and s.verified_households == 400


# ------------------------------------------------------------ against every combination


@pytest.fixture(scope="module")
def sample():
    folder = Path(tempfile.mkdtemp(prefix="sites-"))
    files = write_sample(folder, seed=7, size=0.5)
    area = load_study_area(files["roads"], files["communities"], files["facilities"],
                           gates=files["gates"])
    return files, area, Scenario.from_area(area, "jinzhong")


def _eight_candidates(scenario: Scenario) -> gpd.GeoDataFrame:
    """Eight grid candidates near short communities, spread out (every 4th by position)."""
    r = scenario.result().communities
    short = r[r["service_status"] != "meets"]
    grid = grid_candidates(scenario.net, spacing_m=300, near=short.geometry, near_m=200)
    return grid.iloc[np.linspace(0, len(grid) - 1, 8).round().astype(int)]


def test_optimum_equals_enumeration(sample):
    _, _, base = sample
    cands = _eight_candidates(base)
    before = base.result().communities
    hh = before["households"]
    best = {"coverage": -1, "standard": -1}
    value: dict[tuple, dict[str, int]] = {}
    for combo in itertools.combinations(cands.index, 3):  # 56 choices
        new = cands.loc[list(combo)].assign(floor_area_m2=300.0, status="existing")
        new.index = pd.Index([f"X{c}" for c in combo], name="facility_id")
        after = base.add_facilities(new).result().communities["service_status"]
        b = before["service_status"]
        got = {"coverage": int(hh[b.eq("uncovered") & after.ne("uncovered")].sum()),
               "standard": int(hh[b.ne("meets") & after.eq("meets")].sum())}
        value[tuple(sorted(combo))] = got
        best = {m: max(v, got[m]) for m, v in best.items()}
    assert best["standard"] > 0 and best["coverage"] > 0
    for model in ("coverage", "standard"):
        s = recommend_sites(base, cands, k=3, model=model, size_m2=300, curve=False)
        assert s.solution.optimal
        assert s.solution.objective == best[model] == s.verified_households
        chosen = tuple(sorted(s.sites.index))
        if len(chosen) == 3:  # fewer means the rest add nothing; the value is what counts
            assert value[chosen][model] == best[model]
        assert s.greedy.objective <= s.solution.objective
        # the local search (seeded restarts) finds the enumerated optimum here too
        assert s.local is not None and s.local.objective == best[model]


def test_tradeoff_curve_rises(sample):
    _, _, base = sample
    s = recommend_sites(base, _eight_candidates(base), k=4, model="standard")
    curve = s.curve
    assert list(curve["k"]) == [1, 2, 3, 4]
    assert (np.diff(curve["households_optimal"]) >= 0).all()
    assert (curve["households_greedy"] <= curve["households_optimal"]).all()


# ------------------------------------------------------------------ command line


def test_sites_command(sample, tmp_path):
    files, area, base = sample
    cands = _eight_candidates(base).to_crs(4326)
    path = tmp_path / "candidates.csv"
    pd.DataFrame({"candidate_id": cands.index, "name": [f"闲置{i}" for i in range(len(cands))],
                  "lon": cands.geometry.x, "lat": cands.geometry.y}).to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["sites", "--network", str(files["roads"]), "--communities", str(files["communities"]),
            "--facilities", str(files["facilities"]), "--gates", str(files["gates"]),
            "--profile", "jinzhong", "--candidates", str(path), "--k", "2", "--out", str(out)]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    curve = pd.read_csv(out / "tradeoff.csv", encoding="utf-8-sig")
    assert len(sites) <= 2 and list(curve["k"]) == [1, 2]
    assert set(sites["candidate_id"]) <= set(cands.index)
    direct = recommend_sites(base, read_candidates(path, metric_crs=area.net.pyproj_crs), k=2)
    assert sites["households_won"].sum() == direct.verified_households
    assert "proven optimal" in res.output
    assert (out / "sites_map.html").stat().st_size > 100_000  # Leaflet inlined
    # what is refused before computing (a user's file of these names) is what was written
    assert sorted(p.name for p in out.iterdir()) == sorted([*SITE_FILES, MANIFEST_NAME])


def test_bad_candidates_file(sample, tmp_path):
    files, _, _ = sample
    path = tmp_path / "candidates.csv"
    lon, lat = to_lonlat([(0, 0)])
    pd.DataFrame({"name": ["x"], "lon": lon, "lat": lat}).to_csv(path, index=False)
    res = CliRunner().invoke(main, [
        "sites", "--network", str(files["roads"]), "--communities", str(files["communities"]),
        "--facilities", str(files["facilities"]), "--candidates", str(path),
        "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "candidates.csv: no candidate id column" in res.output


def test_time_limited_solution_keeps_the_better_choice():
    def sol(obj, bound, status):
        return Solution(np.array([0]), np.array([300.0]), np.array([True]), obj, bound,
                        abs(bound - obj) / bound, status, 1.0)

    stopped = sol(10.0, 20.0, "time limit")
    kept = best_of(stopped, sol(12.0, float("nan"), "greedy"), "standard")
    assert kept.objective == 12.0 and kept.bound == 20.0
    assert kept.gap == pytest.approx(0.4)  # (20 - 12) / 20, against the proven bound
    assert "greedy" in kept.status
    assert best_of(stopped, sol(9.0, float("nan"), "greedy"), "standard") is stopped
    done = sol(10.0, 10.0, "optimal")
    assert best_of(done, sol(10.0, float("nan"), "greedy"), "standard") is done


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # spopt builds PuLP variables the old way
def test_coverage_agrees_with_spopt_mclp(sample):
    """PySAL spopt's maximal covering model (PuLP/CBC) on the same coverage table."""
    import pulp  # noqa: PLC0415  (the `sites` extra)
    from spopt.locate import MCLP  # noqa: PLC0415

    _, _, base = sample
    r = base.result().communities
    grid = grid_candidates(base.net, spacing_m=300,
                           near=r[r["service_status"] == "uncovered"].geometry, near_m=300)
    cands = grid.iloc[np.linspace(0, len(grid) - 1, 40).round().astype(int)]
    problem, _ = build_problem(base.result(), cands, candidate_pairs(base, cands),
                               model="coverage")
    ours = solve(problem, 4)
    cost = np.where(problem.cover.toarray() > 0, 0.0, 1.0)  # covered within radius 0.5
    mclp = MCLP.from_cost_matrix(cost, problem.households, service_radius=0.5, p_facilities=4)
    mclp = mclp.solve(pulp.PULP_CBC_CMD(msg=False))
    assert ours.optimal and ours.objective > 0
    assert ours.objective == pytest.approx(mclp.problem.objective.value())


def test_subsidy_threshold_is_not_a_site_size():
    # Wanzhou: a station must have at least 300 m² (a minimum), a street centre gets a
    # subsidy from 1,500 m² (a threshold, no minimum). A street-centre candidate therefore
    # gets the default 300 m² (DEFAULT_SITE_M2), never 1,500; a station its 300 m² minimum.
    wanzhou = Scenario.from_area(make_line_area(), "wanzhou")
    mins = wanzhou.profile.facility_min_m2
    assert mins["street_centre"].min_m2 == 1500 and not mins["street_centre"].is_minimum
    cands = _cands({"K1700": 1700.0})
    cands["kind"] = "street_centre"
    s = recommend_sites(wanzhou, cands, k=1, model="coverage", curve=False)
    assert list(s.sites["floor_area_m2"]) == [300.0]
    # K1700 reaches C and D (400 households), both uncovered before
    assert s.solution.objective == s.verified_households == 400


def test_sites_needed_by_hand(street):
    # 60 m² sites: K1000's circle holds A, B and C (600 households: 60 / 600 = 10 per 100),
    # K1700's C and D (400: 15 per 100). C lacks 20: 15 < 20 <= 15 + 10, so 2 sites;
    # D lacks 15 and K1700 gives it 15: 1 site.
    cands = _cands(CANDIDATES)
    pairs = candidate_pairs(street, cands)
    problem, _ = build_problem(street.result(), cands, pairs, model="standard", size_m2=60)
    assert problem.gain[list(problem.target_ids).index("C")].toarray().round(9).tolist() == [
        [10.0, 15.0]]
    need = dict(zip(problem.target_ids, sites_needed(problem), strict=True))
    assert need == {"C": 2, "D": 1}
    # 40 m²: C gets 6.67 + 10 < 20 and D 10 < 15 even from all the sites reaching them, so
    # each needs one more site than reaches it (3 and 2): they cannot be won.
    small, _ = build_problem(street.result(), cands, pairs, model="standard", size_m2=40)
    assert dict(zip(small.target_ids, sites_needed(small), strict=True)) == {"C": 3, "D": 2}


def test_local_search_beats_greedy_by_hand():
    # Four sites, each 1 m² in a circle of 100 households: 1 m² per 100 households to each
    # target it reaches. T1 (15 households) lacks 2 and is reached by A and B; T2 (7) lacks
    # 1, reached by C; T3 (7) lacks 1, reached by D. k = 2: greedy takes C then D (7 + 7 =
    # 14; A or B alone wins nothing); one swap cannot help (A with D still wins only T3),
    # the random restarts find A + B: T1, 15 households.
    cover = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float))
    ones = np.ones(4)
    problem = SiteProblem("standard", np.array(list("ABCD")), np.array(["T1", "T2", "T3"]),
                          np.array([15.0, 7.0, 7.0]), np.array([2.0, 1.0, 1.0]), cover,
                          np.full(4, 100.0), ones, ones, ones)
    g = greedy(problem, 2)
    assert sorted(problem.candidate_ids[g.chosen]) == ["C", "D"] and g.objective == 14
    ls = local_search(problem, 2, g)
    assert sorted(problem.candidate_ids[ls.chosen]) == ["A", "B"]
    assert ls.objective == 15 and list(ls.won) == [True, False, False]
    exact = solve(problem, 2)
    assert exact.optimal and exact.objective == 15


def test_candidates_size_that_is_not_a_number(tmp_path):
    # Row 3 (B) holds text where m² belong: refused, naming file, row, column and value,
    # instead of silently taking the default size. C's empty size is the default (NaN).
    path = tmp_path / "cands.csv"
    path.write_text("candidate_id,lon,lat,floor_area_m2\nA,112.75,37.69,300\n"
                    "C,112.77,37.69,\n", encoding="utf-8")
    sizes = read_candidates(path)["floor_area_m2"]
    assert sizes["A"] == 300 and np.isnan(sizes["C"])
    path.write_text("candidate_id,lon,lat,floor_area_m2\nA,112.75,37.69,300\n"
                    "B,112.76,37.69,300平方米\nC,112.77,37.69,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 3, column floor_area_m2: value '300平方米'"):
        read_candidates(path)


@pytest.mark.parametrize(("option", "value"), [
    ("--k", "0"), ("--spacing", "0"), ("--near", "-1"), ("--size", "-3"),
    ("--max-size", "0"), ("--time-limit", "-1"), ("--gap", "-1"), ("--speed", "-1"),
])
def test_sites_refuses_impossible_option_values_before_loading(tmp_path, option, value):
    """Before these checks, --near -1 and --speed -1 ended in an internal error, and
    --spacing 0 / --size -3 in nonsense sites; none of them may reach the network."""
    names = ("roads.gpkg", "communities.gpkg", "facilities.csv")  # never read
    net, comm, fac = (str(tmp_path / n) for n in names)
    args = ["sites", "--network", net, "--communities", comm, "--facilities", fac,
            "--out", str(tmp_path / "o"), option, value]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert option in result.output and value in result.output
    assert "loading network" not in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()
