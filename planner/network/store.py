"""The compiled walking network and its on-disk cache.

A walking graph is compiled once into arrays (:class:`CompiledNetwork`): node
coordinates, one row per undirected edge, and a symmetric CSR adjacency matrix whose
parallel edges are reduced to the shortest. The arrays are cached as ``.npz`` files,
keyed by the source file (:func:`file_key`), so a second run skips the compilation.

This module sits below both :mod:`planner.network` (which builds networks) and
:mod:`planner.reach` (which searches them).
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import platformdirs
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from planner.network.directed import DirectedCosts

if TYPE_CHECKING:  # networkx only in annotations: a cached network never imports it
    import networkx as nx

log = logging.getLogger("planner")

#: Version of the compiled-network cache format; bump when the arrays change.
CACHE_VERSION = 1


@dataclass
class CompiledNetwork:
    """A walking network as arrays, in a metric CRS.

    Attributes
    ----------
    crs
        The metric CRS (WKT).
    node_x, node_y
        Node coordinates in metres, shape ``(n,)``.
    edge_u, edge_v
        End nodes of each undirected edge (indices into the node arrays), shape ``(m,)``.
    edge_length
        Length of each edge in metres, measured along its geometry.
    edge_coords, edge_offsets
        Vertices of all edge geometries stacked, oriented from ``edge_u`` to ``edge_v``;
        edge ``i`` owns ``edge_coords[edge_offsets[i]:edge_offsets[i + 1]]``.
    directed
        Direction-dependent costs (flat-equivalent metres, :mod:`planner.terrain`), or
        ``None``: every edge costs its length both ways.
    cache_file
        The ``.npz`` cache these arrays were read from or written to
        (:func:`load_compiled`, :func:`save_compiled`), or ``None`` (never cached, as
        with ``--no-cache``). Caches of data derived from the network (the walking
        circles' street grid runs, :mod:`planner.isochrones.cache`) live beside it.
    """

    crs: str
    node_x: np.ndarray
    node_y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length: np.ndarray
    edge_coords: np.ndarray
    edge_offsets: np.ndarray
    _geoms: np.ndarray | None = field(default=None, repr=False)
    _tree: shapely.STRtree | None = field(default=None, repr=False)
    _components: np.ndarray | None = field(default=None, repr=False)
    _base_csr: sp.csr_matrix | None = field(default=None, repr=False)
    directed: DirectedCosts | None = field(default=None, repr=False)
    cache_file: Path | None = field(default=None, repr=False, compare=False)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges."""
        return len(self.edge_u)

    @property
    def pyproj_crs(self) -> pyproj.CRS:
        """The metric CRS as a :class:`pyproj.CRS`."""
        return pyproj.CRS.from_wkt(self.crs)

    @property
    def edge_geoms(self) -> np.ndarray:
        """Edge LineStrings (built once, on first use)."""
        if self._geoms is None:
            self._geoms = lines_of(self.edge_coords, self.edge_offsets)
        return self._geoms

    @property
    def tree(self) -> shapely.STRtree:
        """Spatial index of the edges."""
        if self._tree is None:
            self._tree = shapely.STRtree(self.edge_geoms)
        return self._tree

    @property
    def components(self) -> np.ndarray:
        """Connected-component label of every node; 0 is the largest component."""
        if self._components is None:
            # connectivity only: a plain matrix of the edges (labels depend on which
            # nodes are joined, not on lengths), without sorting out parallel edges
            links = sp.csr_matrix((np.ones(self.n_edges), (self.edge_u, self.edge_v)),
                                  shape=(self.n_nodes, self.n_nodes))
            _, labels = connected_components(links, directed=False)
            sizes = np.bincount(labels)
            rank = np.empty_like(sizes)
            rank[np.argsort(-sizes, kind="stable")] = np.arange(len(sizes))
            self._components = rank[labels]
        return self._components

    def adjacency(
        self,
        extra_u: np.ndarray | None = None,
        extra_v: np.ndarray | None = None,
        extra_w: np.ndarray | None = None,
        n_extra_nodes: int = 0,
        one_way: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> sp.csr_matrix:
        """CSR matrix of edge lengths (metres), parallel edges reduced to the shortest.

        Every street is two-way. ``extra_*`` add two-way edges (for split points)
        between nodes that may include ``n_extra_nodes`` nodes numbered after the
        network's own; ``one_way`` adds ``(u, v, length)`` edges usable only from u to v.
        Every extra edge must touch an extra node, so it never duplicates a street: the
        network's own matrix is built once and the extras are added to it.

        With ``directed`` costs the matrix is the **transposed** walking graph: the entry
        from ``a`` to ``b`` is the cost of walking from ``b`` to ``a``, so a search from a
        facility gives each node the cost of walking from that node to the facility.
        """
        if self._base_csr is None:
            if self.directed is None:
                self._base_csr = _csr(self.edge_u, self.edge_v, self.edge_length, self.n_nodes)
            else:
                self._base_csr = _csr(self.edge_u, self.edge_v, self.directed.forward_m,
                                      self.n_nodes, w_back=self.directed.backward_m)
        if extra_u is None and one_way is None:
            return self._base_csr
        n = self.n_nodes + n_extra_nodes
        empty = np.zeros(0, dtype=np.int64)
        extra = _csr(
            empty if extra_u is None else extra_u, empty if extra_v is None else extra_v,
            np.zeros(0) if extra_w is None else extra_w, n, one_way,
        )
        return _stack_rows(self._base_csr, extra)


def lines_of(coords: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """LineStrings of stacked vertices: line ``i`` is ``coords[offsets[i]:offsets[i + 1]]``.

    shapely builds them without holding Python's lock, so another thread can work meanwhile.
    """
    counts = np.diff(offsets)
    geoms = np.empty(len(counts), dtype=object)
    two = counts == 2  # most edges: one segment, built without an index array
    start = offsets[:-1][two]
    geoms[two] = shapely.linestrings(np.stack([coords[start], coords[start + 1]], axis=1))
    if not two.all():
        rest = np.flatnonzero(~two)
        geoms[rest] = shapely.linestrings(coords[spans_of(offsets, rest)],
                                          indices=np.repeat(np.arange(len(rest)), counts[rest]))
    return geoms


def spans_of(offsets: np.ndarray, items: np.ndarray) -> np.ndarray:
    """Indices ``offsets[i]:offsets[i + 1]`` of every ``i`` in ``items``, concatenated."""
    lo, hi = offsets[items], offsets[items + 1]
    counts = hi - lo
    return np.repeat(lo - np.cumsum(np.r_[0, counts[:-1]]), counts) + np.arange(counts.sum())


def _stack_rows(base: sp.csr_matrix, extra: sp.csr_matrix) -> sp.csr_matrix:
    """Merge two CSR matrices with no entry in common, keeping explicit zeros.

    ``base`` may have fewer rows than ``extra`` (it is padded). Sparse ``+`` would drop
    zero-length edges (a facility right on the road), so the rows are merged by hand,
    in O(nnz).
    """
    n = extra.shape[0]
    base_counts = np.zeros(n, dtype=np.int64)
    base_counts[: base.shape[0]] = np.diff(base.indptr)
    extra_counts = np.diff(extra.indptr)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(base_counts + extra_counts, out=indptr[1:])
    base_rows = np.repeat(np.arange(base.shape[0]), np.diff(base.indptr))
    base_pos = indptr[base_rows] + np.arange(base.nnz) - base.indptr[base_rows]
    extra_rows = np.repeat(np.arange(n), extra_counts)
    extra_pos = (indptr[extra_rows] + base_counts[extra_rows]
                 + np.arange(extra.nnz) - extra.indptr[extra_rows])
    data = np.empty(indptr[-1])
    indices = np.empty(indptr[-1], dtype=np.int32)
    data[base_pos], indices[base_pos] = base.data, base.indices
    data[extra_pos], indices[extra_pos] = extra.data, extra.indices
    return sp.csr_matrix((data, indices, indptr), shape=(n, n))


def _csr(
    u: np.ndarray, v: np.ndarray, w: np.ndarray, n: int,
    one_way: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    w_back: np.ndarray | None = None,
) -> sp.csr_matrix:
    """CSR of both directions of every edge (plus one-way ones), shortest of parallels.

    ``w`` is the cost from u to v and ``w_back`` (default ``w``) from v to u, entered
    transposed: row v, column u holds ``w`` (see :meth:`CompiledNetwork.adjacency`).
    """
    keep = u != v  # self-loops never shorten a walk
    rows = [u[keep], v[keep]]
    cols = [v[keep], u[keep]]
    vals = [w[keep] if w_back is None else w_back[keep], w[keep]]
    if one_way is not None:
        rows.append(one_way[0])
        cols.append(one_way[1])
        vals.append(one_way[2])
    row_arr, col_arr, val_arr = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    # parallel entries (same row and column) are rare: found by hashing one integer key
    # per entry, all but the shortest of each dropped; then scipy's counting sort by row
    key = row_arr.astype(np.int64) * max(n, 1) + col_arr
    dup = np.flatnonzero(pd.Index(key).duplicated(keep=False))
    if len(dup):
        dup = dup[np.lexsort((val_arr[dup], key[dup]))]
        later = np.r_[False, key[dup][1:] == key[dup][:-1]]
        keep_entry = np.ones(len(key), dtype=bool)
        keep_entry[dup[later]] = False
        row_arr, col_arr, val_arr = row_arr[keep_entry], col_arr[keep_entry], val_arr[keep_entry]
    m = sp.csr_matrix((val_arr, (row_arr, col_arr)), shape=(n, n))
    m.sort_indices()  # columns in order within each row, as a lexsort would give
    return m


def compile_graph(G: nx.MultiDiGraph) -> CompiledNetwork:
    """Compile a projected networkx graph into arrays.

    Directions are dropped (walking is two-way); an edge and its reverse twin, as osmnx
    stores two-way streets, become one row: of the edges joining the same two nodes with
    the same length (to the millimetre), the first is kept. Edges without ``geometry``
    get a straight line.
    """
    nodes = list(G.nodes)
    index = {node: i for i, node in enumerate(nodes)}
    node_x = np.fromiter((G.nodes[n]["x"] for n in nodes), float, len(nodes))
    node_y = np.fromiter((G.nodes[n]["y"] for n in nodes), float, len(nodes))
    # every edge in G.edges() order (by u, then v, then key), from the raw dicts; three
    # flat lists, not a list of tuples (which would wake the garbage collector)
    us = np.array([index[u] for u, nbrs in G.adjacency() for keyed in nbrs.values()
                   for _ in keyed], dtype=np.int64)
    vs = np.array([index[v] for _, nbrs in G.adjacency() for v, keyed in nbrs.items()
                   for _ in keyed], dtype=np.int64)
    geoms = np.empty(len(us), dtype=object)
    geoms[:] = [data.get("geometry") for _, nbrs in G.adjacency() for keyed in nbrs.values()
                for data in keyed.values()]
    straight = np.flatnonzero(shapely.is_missing(geoms))
    if len(straight):
        ends = np.stack([np.c_[node_x[us[straight]], node_y[us[straight]]],
                         np.c_[node_x[vs[straight]], node_y[vs[straight]]]], axis=1)
        geoms[straight] = shapely.linestrings(ends)
    keep = first_of_each_street(us, vs, shapely.length(geoms))
    return compile_arrays(
        crs=pyproj.CRS.from_user_input(G.graph["crs"]).to_wkt(),
        node_x=node_x, node_y=node_y, edge_u=us[keep], edge_v=vs[keep], edge_geoms=geoms[keep],
    )


def first_of_each_street(u: np.ndarray, v: np.ndarray, length_m: np.ndarray) -> np.ndarray:
    """Which edges to keep: the first of those with the same two end nodes and length.

    Lengths count the same when Python's ``round(length, 3)`` is equal (millimetres);
    a NaN length is never the same as another.

    Returns
    -------
    numpy.ndarray
        Boolean, per edge.
    """
    rounded = np.array([round(x, 3) for x in length_m.tolist()], dtype=float)
    keys = pd.DataFrame({"a": np.minimum(u, v), "b": np.maximum(u, v), "m": rounded})
    return ~keys.duplicated(keep="first").to_numpy() | np.isnan(rounded)


def compile_arrays(
    *,
    crs: str,
    node_x: np.ndarray,
    node_y: np.ndarray,
    edge_u: np.ndarray,
    edge_v: np.ndarray,
    edge_geoms: np.ndarray,
) -> CompiledNetwork:
    """Build a :class:`CompiledNetwork` from node and edge arrays.

    Edge geometries are oriented so that they start at ``edge_u`` (the nearer end node).
    """
    coords, idx = shapely.get_coordinates(edge_geoms, return_index=True)
    offsets = np.zeros(len(edge_geoms) + 1, dtype=np.int64)
    np.cumsum(np.bincount(idx, minlength=len(edge_geoms)), out=offsets[1:])
    flip = nearer_v(coords[offsets[:-1]], node_x, node_y, edge_u, edge_v)
    if len(flip):
        edge_geoms = edge_geoms.copy()
        edge_geoms[flip] = shapely.reverse(edge_geoms[flip])
        coords = reverse_spans(coords, offsets, flip)
    return CompiledNetwork(
        crs=crs, node_x=np.asarray(node_x, float), node_y=np.asarray(node_y, float),
        edge_u=np.asarray(edge_u, np.int64), edge_v=np.asarray(edge_v, np.int64),
        edge_length=shapely.length(edge_geoms), edge_coords=coords,
        edge_offsets=offsets, _geoms=edge_geoms,
    )


def nearer_v(start: np.ndarray, node_x: np.ndarray, node_y: np.ndarray, edge_u: np.ndarray,
             edge_v: np.ndarray) -> np.ndarray:
    """Edges whose first vertex ``start`` (shape ``(m, 2)``) is nearer ``v`` than ``u``."""
    d_u = np.hypot(start[:, 0] - node_x[edge_u], start[:, 1] - node_y[edge_u])
    d_v = np.hypot(start[:, 0] - node_x[edge_v], start[:, 1] - node_y[edge_v])
    return np.flatnonzero(d_v < d_u)


def reverse_spans(coords: np.ndarray, offsets: np.ndarray, items: np.ndarray) -> np.ndarray:
    """``coords`` with the vertices of each line in ``items`` in reverse order."""
    take = np.arange(len(coords))
    pos = spans_of(offsets, items)
    owner = np.repeat(items, offsets[items + 1] - offsets[items])
    take[pos] = offsets[owner] + offsets[owner + 1] - 1 - pos
    return coords[take]


def save_compiled(net: CompiledNetwork, path: Path, *, source_key: str = "") -> Path:
    """Write the compiled arrays to ``path`` (``.npz``), tagged with the source's key.

    The arrays go first into a temporary file whose name is unique to this process and
    call, then replace ``path`` in one step: two runs compiling the same network at the
    same moment each write their own file, and a reader never sees half a cache.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        with tmp.open("wb") as f:
            np.savez(
                f, version=CACHE_VERSION, source_key=source_key, crs=net.crs,
                node_x=net.node_x, node_y=net.node_y, edge_u=net.edge_u, edge_v=net.edge_v,
                edge_length=net.edge_length, edge_coords=net.edge_coords,
                edge_offsets=net.edge_offsets,
            )
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    net.cache_file = path
    return path


#: What reading a damaged ``.npz`` can raise (truncated zip, missing array, bad header).
_CORRUPT_CACHE_ERRORS = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def load_compiled(path: Path, *, source_key: str = "") -> CompiledNetwork | None:
    """Read a compiled network, or ``None`` if it is missing, stale, old or damaged.

    A damaged cache file (a disk that filled up, a copy cut short) is removed with a
    warning on the ``planner`` logger, so the caller compiles the network again instead
    of failing on every later run.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        with path.open("rb") as f, np.load(f, allow_pickle=False) as z:
            if int(z["version"]) != CACHE_VERSION or str(z["source_key"]) != source_key:
                return None
            net = CompiledNetwork(
                crs=str(z["crs"]), node_x=z["node_x"], node_y=z["node_y"],
                edge_u=z["edge_u"], edge_v=z["edge_v"], edge_length=z["edge_length"],
                edge_coords=z["edge_coords"], edge_offsets=z["edge_offsets"], cache_file=path,
            )
        _check_consistent(net)
    except _CORRUPT_CACHE_ERRORS as exc:
        log.warning("note: the network cache %s was damaged (%s); the network is compiled "
                    "again", path.name, type(exc).__name__)
        path.unlink(missing_ok=True)
        return None
    return net


def _check_consistent(net: CompiledNetwork) -> None:
    """Raise ValueError when cached arrays do not fit together."""
    n, m = net.n_nodes, net.n_edges
    ok = (len(net.node_y) == n and len(net.edge_v) == m and len(net.edge_length) == m
          and len(net.edge_offsets) == m + 1
          and (m == 0 or (int(net.edge_offsets[-1]) == len(net.edge_coords)
                          and int(max(net.edge_u.max(), net.edge_v.max())) < n)))
    if not ok:
        msg = "cached arrays have inconsistent lengths"
        raise ValueError(msg)


def file_key(path: Path, *extra: str) -> str:
    """A key that changes when a source file (or an option in ``extra``) changes."""
    stat = Path(path).stat()
    text = "|".join([str(Path(path).resolve()), str(stat.st_size), str(stat.st_mtime_ns), *extra])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _writable_folder(folder: Path) -> bool:
    """True when ``folder`` exists (or can be created) and a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".planner-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError:
        return False
    return True


def cache_folder_for(network_path: Path, cache_folder: Path | None = None) -> Path | None:
    """Where to cache the compiled arrays of ``network_path``.

    ``cache_folder`` (or :data:`planner.settings.cache_folder`) when given; otherwise the
    user's cache folder (:func:`platformdirs.user_cache_dir`), else the network file's
    own folder when it is writable, else ``None`` (no cache). Never the working directory.
    """
    from planner import settings  # noqa: PLC0415 - read at call time: tests change it

    chosen = cache_folder or settings.cache_folder
    if chosen is not None:
        return Path(chosen)
    user = Path(platformdirs.user_cache_dir("planner", appauthor=False)) / "networks"
    for folder in (user, Path(network_path).resolve().parent):
        if _writable_folder(folder):
            return folder
    log.info("network: no writable cache folder; the network is compiled on every run")
    return None

