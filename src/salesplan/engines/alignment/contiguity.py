"""Connectivity of territories on the unit adjacency graph."""

from __future__ import annotations

from collections import deque

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components


def territory_pieces(graph: sparse.csr_matrix, assignment: np.ndarray) -> np.ndarray:
    """Label each unit with its connected piece inside its own territory (all at once)."""
    coo = graph.tocoo()
    same = assignment[coo.row] == assignment[coo.col]
    inner = sparse.csr_matrix(
        (np.ones(int(same.sum()), dtype=np.int8), (coo.row[same], coo.col[same])),
        shape=graph.shape,
    )
    return connected_components(inner, directed=False)[1]


def contiguity_status(graph: sparse.csr_matrix, assignment: np.ndarray, k: int) -> np.ndarray:
    """True for each territory that is one connected piece (an empty territory is not)."""
    pieces = territory_pieces(graph, assignment)
    pairs = np.unique(np.column_stack([assignment, pieces]), axis=0)
    count = np.bincount(pairs[:, 0], minlength=k)
    return count == 1


def stays_connected_without(
    graph: sparse.csr_matrix, assignment: np.ndarray, unit: int
) -> bool:
    """Whether the unit's territory stays one piece (and non-empty) once ``unit`` leaves it."""
    territory = assignment[unit]
    indptr, indices = graph.indptr, graph.indices
    friends = [v for v in indices[indptr[unit] : indptr[unit + 1]] if assignment[v] == territory]
    if not friends:
        return False  # the unit is its territory's only piece or an isolated one
    if len(friends) == 1:
        return True
    targets = set(friends)
    seen = {unit, friends[0]}
    queue = deque([friends[0]])
    targets.discard(friends[0])
    while queue and targets:
        u = queue.popleft()
        for v in indices[indptr[u] : indptr[u + 1]]:
            if v not in seen and assignment[v] == territory:
                seen.add(v)
                targets.discard(v)
                queue.append(v)
    return not targets


def touches(graph: sparse.csr_matrix, assignment: np.ndarray, unit: int, territory: int) -> bool:
    neighbours = graph.indices[graph.indptr[unit] : graph.indptr[unit + 1]]
    return bool(np.any(assignment[neighbours] == territory))


def fragments(graph: sparse.csr_matrix, assignment: np.ndarray, keep: np.ndarray,
              prefer: np.ndarray | None = None) -> list:
    """Pieces of territories other than the piece to keep.

    ``keep[u]`` marks units whose piece must stay (locked units); ``prefer[u]`` marks
    units whose piece should stay when no piece of the territory holds a ``keep`` unit
    (centres: a centre is re-chosen afterwards, a locked unit never moves). A territory
    with neither keeps its heaviest piece by unit count. Returns a list of unit index
    arrays.
    """
    prefer = keep if prefer is None else prefer | keep
    pieces = territory_pieces(graph, assignment)
    order = np.argsort(pieces, kind="stable")
    bounds = np.flatnonzero(np.diff(pieces[order])) + 1
    groups = np.split(order, bounds)
    by_territory: dict[int, list[np.ndarray]] = {}
    for group in groups:
        by_territory.setdefault(int(assignment[group[0]]), []).append(group)
    out: list[np.ndarray] = []
    for groups_of_t in by_territory.values():
        if len(groups_of_t) == 1:
            continue
        anchored = ([g for g in groups_of_t if keep[g].any()]
                    or [g for g in groups_of_t if prefer[g].any()] or groups_of_t)
        main = max(anchored, key=len)
        out.extend(g for g in groups_of_t if g is not main and not keep[g].any())
    return out
