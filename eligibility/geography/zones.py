"""Imported zoning layers (`--kind zonage`) beside the answer: which local zones hold a point at a date.

Quartiers d'intérêt communautaire, quartiers de veille active, NPNRU or ZFU-TE perimeters are not lists
of quartiers prioritaires: they never change `status`. They are tested with the same machinery as the
quartiers (metric projection of the zone, grid, exact tests near a boundary), with the layer's own
tolerance (twice its declared precision, at least 1 m) unless one was given explicitly, so a point a
few metres from a zone's limit is reported `near_boundary`, never silently in or out.
"""
from __future__ import annotations

import numpy as np

from . import layers
from .locate import STATUSES as STATUS_WORDS
from .perimeters import load as load_perimeters


def answers(res) -> list[tuple[layers.Layer, np.ndarray, np.ndarray]]:
    """(layer, status code per row, position of the zone per row or -1) for every zoning layer.
    Status not_covered: the layer is not in force at the row's date; undetermined: the point is unknown."""
    from .locate import _CODE, _groups, _int, perimeters_metric

    out = []
    n = len(res)
    zone = _int(res.zone)
    undetermined = np.asarray(res.status_code) == _CODE["undetermined"]
    for layer in layers.of_kind("zonage"):
        status = np.full(n, _CODE["not_covered"], np.int8)
        pos = np.full(n, -1, np.int64)
        start = np.datetime64(layer.valid_from, "D")
        end = np.datetime64(layer.valid_to or "9999-12-31", "D")
        in_force = (res.dates >= start) & (res.dates <= end)
        tol = res.tolerance_m if res.tolerance_m is not None else layer.tolerance_m
        for (z,), rows in _groups(np.where(in_force & (zone >= 0) & ~undetermined, zone, -1)):
            if z < 0:
                continue
            st, p, _, _ = perimeters_metric(layer.dataset_id, z, res.x[rows], res.y[rows], tol)
            status[rows], pos[rows] = st, p
        status[undetermined | (in_force & (zone < 0))] = _CODE["undetermined"]
        out.append((layer, status, pos))
    return out


def row_zones(res, i: int) -> list[dict]:
    """The `zones` of `qpv locate --json`: the zonings holding point i (or within their tolerance of it)."""
    found = []
    for layer, status, pos in res.zone_answers:
        word = STATUS_WORDS[int(status[i])]
        if word in ("inside", "near_boundary") and pos[i] >= 0:
            per = load_perimeters(layer.dataset_id)
            found.append({"layer": layer.name, "code": str(per.code[pos[i]]), "name": str(per.name[pos[i]]) or None,
                          "status": word})
    return found


def as_text(res) -> np.ndarray:
    """The batch `zones` column: "layer:code" joined by " ; ", a zone at a limit marked "(à la limite)"."""
    out = np.full(len(res), "", dtype=object)
    for layer, status, pos in res.zone_answers:
        per = load_perimeters(layer.dataset_id)
        for word, suffix in (("inside", ""), ("near_boundary", " (à la limite)")):
            rows = np.flatnonzero((status == STATUS_WORDS.index(word)) & (pos >= 0))
            for r in rows:  # the few rows in a zone
                out[r] = (out[r] + " ; " if out[r] else "") + f"{layer.name}:{per.code[pos[r]]}{suffix}"
    return out


def in_zone(res, layer_name: str) -> np.ndarray:
    """Status word per row of `in_zone(layer, place, date)`; not_covered when no such layer is imported."""
    for layer, status, _ in res.zone_answers:
        if layer.name == layer_name:
            return np.array(STATUS_WORDS, dtype=object)[status]
    return np.full(len(res), "not_covered", dtype=object)
