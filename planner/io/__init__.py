"""Read planners' input files: communities, facilities and community gates.

Bureaus export spreadsheets, not GIS layers. The readers accept:

- CSV in UTF-8, UTF-8 with BOM, or GBK/GB18030 (detected; Excel on a Chinese
  Windows saves GBK), separated by ``,``, ``;``, tab or ``|``;
- XLSX (first sheet unless ``sheet`` is given);
- GeoJSON, GeoPackage (``layer``) and Shapefile.

Geometry comes from the spatial format's geometry column, or from longitude/latitude
columns under common names (``lon``/``lng``/``longitude``/``x``/``经度`` and
``lat``/``latitude``/``y``/``纬度``), or from a ``wkt`` column. Coordinates are
converted to WGS84 from the declared ``crs`` (see :mod:`planner.crs`).

Column headers are normalised (case, spaces, full-width brackets) and common Chinese
headers are mapped to the schema (``户数`` → ``households`` …); see :data:`ALIASES`.

Bad rows are **rejected, never silently dropped**: each reader returns a
:class:`LoadResult` whose ``rejects`` table says file, row, column, value and reason,
and logs a count on the ``planner`` logger. Row numbers are as a planner sees them
in Excel: the header is row 1, the first data row is row 2 (for spatial formats the
same convention is applied to the attribute table). Whole-file problems (missing
file, unknown format, undecodable text, no rows, swapped coordinate columns, a
missing required column) raise :class:`~planner._errors.InputError`.

The package has one module per job: :mod:`~planner.io.tables` (read a file as is),
:mod:`~planner.io.layers` (choose the layer or sheet), :mod:`~planner.io.headers`
(header aliases), :mod:`~planner.io.values` (cell values and the rejects),
:mod:`~planner.io.geometry` (points and polygons), :mod:`~planner.io.readers` (the three
readers), and for results :mod:`~planner.io.writers` (CSV and JSON that are safe to open
in Excel) and :mod:`~planner.io.outputs` (the output folder, written atomically and
never over a file the planner did not write).
"""

from planner.io.geometry import LAT_NAMES, LON_NAMES, WKT_NAMES
from planner.io.headers import (
    AREA_TYPE_SYNONYMS,
    COMMUNITY_ALIASES,
    FACILITY_ALIASES,
    FACILITY_STATUS_SYNONYMS,
    GATE_ALIASES,
    KIND_SYNONYMS,
    STATUS_SYNONYMS,
    normalise_header,
)
from planner.io.readers import LoadResult, read_communities, read_facilities, read_gates
from planner.io.tables import (
    CSV_ENCODINGS,
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    SPATIAL_SUFFIXES,
    read_table,
    read_text,
)
from planner.io.values import MAX_FLOOR_AREA_M2, MAX_HOUSEHOLDS, REJECT_COLUMNS, YEAR_RANGE
from planner.io.writers import escape_formula, escape_formulas, round_for_output, to_json, write_csv

__all__ = [
    "AREA_TYPE_SYNONYMS",
    "COMMUNITY_ALIASES",
    "CSV_ENCODINGS",
    "CSV_SUFFIXES",
    "EXCEL_SUFFIXES",
    "FACILITY_ALIASES",
    "FACILITY_STATUS_SYNONYMS",
    "GATE_ALIASES",
    "KIND_SYNONYMS",
    "LAT_NAMES",
    "LON_NAMES",
    "MAX_FLOOR_AREA_M2",
    "MAX_HOUSEHOLDS",
    "REJECT_COLUMNS",
    "SPATIAL_SUFFIXES",
    "STATUS_SYNONYMS",
    "WKT_NAMES",
    "YEAR_RANGE",
    "LoadResult",
    "escape_formula",
    "escape_formulas",
    "normalise_header",
    "read_communities",
    "read_facilities",
    "read_gates",
    "read_table",
    "read_text",
    "round_for_output",
    "to_json",
    "write_csv",
]
