"""The disk cache: rebuilt when absent or damaged, and never serving a file the manifest refuses.

Issue 15, finding 2: a truncated, CRC-broken or validly rewritten .npz is rebuilt once with a message
(the answer is the one the reference data gives); if the rebuild fails, the command refuses with the
checksum message, never an internal error.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import shapely
from click.testing import CliRunner
from qpv_cli.main import qpv

from eligibility import datasets
from eligibility.errors import DataIntegrityError
from eligibility.geography import cache, perimeters
from eligibility.integrity import Source

QP2015 = "qpv/qp2015_occitanie/qp2015_occitanie_contours.geojson"


def _source(tmp_path, text="abc") -> Source:
    import hashlib

    path = tmp_path / "source.txt"
    path.write_text(text)
    return Source(path, hashlib.sha256(text.encode()).hexdigest(), "source.txt")


def _entry(tmp_path) -> Path:
    return next((tmp_path / "geography" / cache.CACHE_VERSION).glob("t-k.npz"))


def test_cached_builds_once_and_survives_a_damaged_entry(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path))
    src = _source(tmp_path)
    calls = []

    def build():
        calls.append(1)
        return {"a": np.arange(3)}

    assert cache.cached("t", "k", build, sources=[src])["a"].tolist() == [0, 1, 2]
    assert cache.cached("t", "k", build, sources=[src])["a"].tolist() == [0, 1, 2]
    assert len(calls) == 1
    _entry(tmp_path).write_bytes(b"not a zip")
    assert cache.cached("t", "k", build, sources=[src])["a"].tolist() == [0, 1, 2] and len(calls) == 2
    assert "reconstruit" in capsys.readouterr().err
    assert not list((tmp_path / "geography").rglob("*.tmp"))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _break_crc(path: Path) -> None:
    """One byte flipped inside an array's data: the zip is whole, its CRC no longer matches."""
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x01
    path.write_bytes(bytes(data))


def _rewrite_validly(path: Path) -> None:
    """A well-formed npz with other arrays: every array kept but one value changed."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    name = next(k for k in sorted(arrays) if k.endswith(("_blob", "_coords")))  # WKB bytes or coordinates
    arrays[name] = arrays[name].copy()
    flat = arrays[name].reshape(-1)
    if flat.dtype.kind == "f":
        flat[len(flat) // 2] += 1.0
    else:
        flat[len(flat) // 2] ^= 0x10
    with path.open("wb") as f:
        np.savez(f, **arrays)


def _rewrite_without_metadata(path: Path) -> None:
    """The attacker's or the old cache's npz: whole, readable, no integrity metadata."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != cache.META}
    with path.open("wb") as f:
        np.savez(f, **arrays)


def test_unit_damage_of_every_kind_is_detected(tmp_path, monkeypatch):
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path))
    src = _source(tmp_path)
    blob = np.arange(4000, dtype=np.uint8)
    for damage in (_truncate, _break_crc, _rewrite_validly, _rewrite_without_metadata):
        cache.cached("t", "k", lambda: {"geom_blob": blob, "n": np.arange(5)}, sources=[src])
        damage(_entry(tmp_path))
        with pytest.raises(cache.DamagedEntry):
            cache.load_entry(_entry(tmp_path))
        _entry(tmp_path).unlink()


def test_an_entry_built_from_other_source_bytes_is_not_served(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path))
    old = _source(tmp_path, "old")
    cache.cached("t", "k", lambda: {"a": np.arange(3)}, sources=[old])
    new = _source(tmp_path, "new")  # same label and cache key, other bytes vouched for
    assert cache.cached("t", "k", lambda: {"a": np.arange(4)}, sources=[new])["a"].tolist() == [0, 1, 2, 3]
    assert "reconstruit" in capsys.readouterr().err


def _inside_point(data: Path) -> tuple[float, float]:
    line = next(x for x in (data / QP2015).read_text(encoding="utf-8").split("\n") if '"code_qp": "QP066007"' in x)
    p = shapely.point_on_surface(shapely.from_geojson(json.dumps(json.loads(line.rstrip(","))["geometry"])))
    return round(p.x, 6), round(p.y, 6)


def _locate(lon, lat):
    return CliRunner().invoke(qpv, ["locate", "--lon", str(lon), "--lat", str(lat), "--date", "2020-06-01", "--json"])


@pytest.mark.parametrize("damage", [_truncate, _break_crc, _rewrite_validly, _rewrite_without_metadata],
                         ids=["truncated", "crc-broken", "validly-rewritten", "no-metadata"])
def test_damaged_geography_entry_is_rebuilt_once_with_a_message(isolated_data, forget, damage):
    lon, lat = _inside_point(isolated_data)
    before = _locate(lon, lat)
    assert before.exit_code == 0
    entry = next((Path(os.environ["QPV_CACHE_DIR"]) / "geography").rglob("perimeters-qp2015_occitanie-*.npz"))
    damage(entry)
    forget()

    after = _locate(lon, lat)
    assert after.exit_code == 0, after.stderr
    assert after.stdout == before.stdout  # the answer the reference data gives, not the damaged entry's
    assert "cache dérivé" in after.stderr and "reconstruit" in after.stderr
    assert "erreur interne" not in after.stderr
    forget()
    again = _locate(lon, lat)  # rebuilt once: the next command loads it silently
    assert again.stdout == before.stdout and "reconstruit" not in again.stderr


def test_failed_rebuild_refuses_with_the_checksum_message(isolated_data, forget):
    lon, lat = _inside_point(isolated_data)
    assert _locate(lon, lat).exit_code == 0
    entry = next((Path(os.environ["QPV_CACHE_DIR"]) / "geography").rglob("perimeters-qp2015_occitanie-*.npz"))
    _break_crc(entry)
    target = isolated_data / QP2015
    target.write_bytes(target.read_bytes().replace(b"QP066007", b"QP066999", 1))
    forget()
    res = _locate(lon, lat)
    assert res.exit_code == 1
    assert "somme de contrôle invalide pour " + QP2015 in res.stderr
    assert "erreur interne" not in res.stderr and "BadZipFile" not in res.stderr


def test_data_verify_reports_and_removes_a_damaged_entry(isolated_data, forget):
    lon, lat = _inside_point(isolated_data)
    assert _locate(lon, lat).exit_code == 0
    entry = next((Path(os.environ["QPV_CACHE_DIR"]) / "geography").rglob("perimeters-qp2015_occitanie-*.npz"))
    _rewrite_validly(entry)
    forget()
    res = CliRunner().invoke(qpv, ["data", "verify", "--json"])
    assert res.exit_code == 1
    bad = [c for c in json.loads(res.stdout)["caches"] if not c["ok"]]
    assert [entry.name in c["path"] for c in bad] == [True] and "somme de contrôle invalide" in bad[0]["message"]
    assert not entry.exists()
    forget()
    assert CliRunner().invoke(qpv, ["data", "verify", "--json"]).exit_code == 0


def test_corrupted_perimeter_file_is_refused_even_with_a_warm_cache(tmp_path, monkeypatch):
    src = datasets.data_dir()
    dst = tmp_path / "data"
    (dst / "qpv/qp2015_occitanie").mkdir(parents=True)
    shutil.copy(src / "manifest.yaml", dst / "manifest.yaml")
    target = dst / QP2015
    shutil.copy(src / QP2015, target)
    monkeypatch.setenv("QPV_DATA_DIR", str(dst))
    monkeypatch.setenv("QPV_CACHE_DIR", str(tmp_path / "cache"))
    perimeters.load.cache_clear()
    try:
        assert len(perimeters.load("qp2015_occitanie").code) == 105  # builds the cache entry
        perimeters.load.cache_clear()
        target.write_text(target.read_text().replace("Moissac", "Moisac"))
        with pytest.raises(DataIntegrityError, match="somme de contrôle"):
            perimeters.load("qp2015_occitanie")
    finally:
        perimeters.load.cache_clear()


def test_cache_key_follows_the_data():
    assert cache.key("a") != cache.key("b")
    assert cache.key("a") == cache.key("a")


_DTYPES = [np.int64, np.int32, np.int16, np.uint8, np.float64, np.float32, np.bool_, "<U5"]


@st.composite
def _arrays(draw) -> dict[str, np.ndarray]:
    out = {}
    for k in range(draw(st.integers(1, 6))):
        dtype = np.dtype(draw(st.sampled_from(_DTYPES)))
        shape = tuple(draw(st.lists(st.integers(0, 7), max_size=3)))
        values = np.arange(int(np.prod(shape, dtype=np.int64))) * draw(st.integers(1, 97))
        a = (values.astype(str) if dtype.kind == "U" else values).astype(dtype).reshape(shape)
        out[f"a{k}"] = np.asfortranarray(a) if draw(st.booleans()) else a
    return out


@settings(max_examples=60, deadline=None)
@given(arrays=_arrays())
def test_entries_read_in_place_equal_np_load(tmp_path_factory, arrays):
    """`load_entry` takes the arrays in place from the file's bytes: the same names, dtypes, shapes and values as
    np.load gives, writable and aligned, whatever the dtypes, shapes (0-d, empty) and memory order."""
    path = tmp_path_factory.mktemp("e") / "x.npz"
    meta = np.frombuffer(json.dumps({cache.DIGEST: cache.arrays_digest(arrays)}).encode(), dtype=np.uint8)
    np.savez(path, **arrays, **{cache.META: meta})
    got, _ = cache.load_entry(path)
    with np.load(path, allow_pickle=False) as z:
        want = {k: z[k] for k in z.files if k != cache.META}
    assert got.keys() == want.keys()
    for k, a in want.items():
        assert got[k].dtype == a.dtype and got[k].shape == a.shape and np.array_equal(got[k], a)
        assert got[k].flags.writeable and got[k].flags.aligned


def _mapped(a: np.ndarray) -> bool:
    """Whether `a` is a view of a memory-mapped file (its base chain ends in the mapping, not in numpy memory)."""
    import mmap

    base = a
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


@settings(max_examples=60, deadline=None)
@given(arrays=_arrays(), names=st.lists(st.text("abcdefghij_", min_size=1, max_size=40), min_size=6, max_size=6,
                                        unique=True))
def test_entries_written_here_are_aligned_and_read_as_views_of_the_mapped_file(tmp_path_factory, arrays, names):
    """`_write` pads each member so that its array bytes start at a multiple of 64 (whatever the names' lengths):
    np.load reads the file as it reads np.savez's, and `load_entry` gives views of the mapped file, aligned and
    writable, copy-on-write: writing into one changes neither the file nor the next load."""
    arrays = {names[i]: a for i, a in enumerate(arrays.values())}
    path = tmp_path_factory.mktemp("e") / "x.npz"
    cache._write(path, arrays, {cache.DIGEST: cache.arrays_digest(arrays)})
    before = path.read_bytes()
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == sorted([*arrays, cache.META])
        assert all(z[k].dtype == a.dtype and z[k].shape == a.shape and np.array_equal(z[k], a) for k, a in arrays.items())
    got, _ = cache.load_entry(path)
    for k, a in arrays.items():
        assert got[k].dtype == a.dtype and got[k].shape == a.shape and np.array_equal(got[k], a)
        assert got[k].flags.writeable and got[k].flags.aligned
        assert _mapped(got[k]) or got[k].size == 0
        if got[k].size:
            got[k].reshape(-1)[0] = got[k].reshape(-1)[-1] if a.dtype.kind == "U" else 1 - got[k].reshape(-1)[0]
    assert path.read_bytes() == before
    again, _ = cache.load_entry(path)
    assert all(np.array_equal(again[k], a) for k, a in arrays.items())


def test_a_member_whose_bytes_disagree_with_its_shape_is_refused():
    """An .npy member holding fewer (or more) bytes than its header's shape and dtype need is refused, never read
    past its end (nor past the mapped file's)."""
    import io

    npy = io.BytesIO()
    np.lib.format.write_array(npy, np.arange(1000, dtype=np.int64))
    data = npy.getvalue()
    assert cache._npy_array(data, 0, len(data)).sum() == 499500
    for size in (len(data) - 8, len(data) - 1, len(data) + 8):
        with pytest.raises(ValueError, match="tronqué"):
            cache._npy_array(data + bytes(8), 0, size)


@settings(max_examples=80, deadline=None)
@given(where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7))
def test_a_flipped_bit_anywhere_is_refused_or_changes_no_array(tmp_path_factory, where, bit):
    """Without the zip's CRC the entry's checksum still guards every array: a bit flipped anywhere in the file
    is refused (DamagedEntry), or it fell outside every array's name, dtype, shape and bytes."""
    tmp = tmp_path_factory.mktemp("e")
    os.environ["QPV_CACHE_DIR"] = str(tmp)
    try:
        arrays = {"geom_blob": np.arange(3000, dtype=np.uint8), "n": np.arange(7), "f": np.linspace(0, 1, 5)}
        cache.cached("t", "k", lambda: arrays, sources=[_source(tmp)])
    finally:
        del os.environ["QPV_CACHE_DIR"]
    path = _entry(tmp)
    data = bytearray(path.read_bytes())
    data[int(where * len(data))] ^= 1 << bit
    path.write_bytes(bytes(data))
    try:
        got, _ = cache.load_entry(path)
    except cache.DamagedEntry:
        return
    assert got.keys() == arrays.keys()
    assert all(got[k].dtype == a.dtype and np.array_equal(got[k], a) for k, a in arrays.items())


def _ring(rng, cx, cy, r, n):
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radii = rng.uniform(0.3, 1.0, n) * r
    return np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.sampled_from(["multipolygon", "polygon", "line", "mixed", "empty", "ring"]))
def test_geometries_packed_as_coordinates_come_back_identical(tmp_path_factory, seed, count, shape):
    """`pack_coordinates` → the cache's own read → `unpack_geoms`: the same geometries, WKB for WKB (types,
    rings, holes, parts, every coordinate's bits), whatever their type; mixed types and empty geometries go
    through WKB and come back identical too."""
    rng = np.random.default_rng(seed)
    polys = []
    for i in range(count):
        shell = _ring(rng, i * 10.0 + rng.uniform(-1e-9, 1e-9), rng.uniform(6e6, 7e6), 3.0, int(rng.integers(3, 30)))
        hole = _ring(rng, shell[:, 0].mean(), shell[:, 1].mean(), 0.2, 5)
        polys.append(shapely.Polygon(shell, [hole] if rng.random() < 0.5 else []))
    polys = shapely.make_valid(np.array(polys, dtype=object))
    polys = np.array([shapely.get_parts(p)[0] if shapely.get_type_id(p) == 6 else p for p in polys], dtype=object)
    polys = polys[shapely.get_type_id(polys) == 3]
    if not len(polys):
        return
    geoms = {"multipolygon": lambda: shapely.multipolygons([[p, shapely.affinity.translate(p, 0, 50)] for p in polys]),
             "polygon": lambda: polys, "line": lambda: shapely.boundary(polys),  # lines and multilines when holes
             "mixed": lambda: np.concatenate([polys, shapely.multipolygons([[p] for p in polys])]),
             "empty": lambda: np.concatenate([polys, [shapely.Polygon()]]),
             "ring": lambda: shapely.get_exterior_ring(polys)}[shape]()  # a type the ragged arrays do not hold
    arrays = cache.pack_coordinates(np.asarray(geoms, dtype=object), "poly")
    types = shapely.get_type_id(geoms)
    assert ("poly_coords" in arrays) == (len(set(types.tolist())) == 1 and shape != "ring")
    path = tmp_path_factory.mktemp("ragged") / "e.npz"
    np.savez(path, **arrays)
    back = cache.unpack_geoms(cache._read_arrays(path), "poly")
    assert list(shapely.to_wkb(back)) == list(shapely.to_wkb(geoms))


def test_members_of_every_npy_version_are_read_from_their_header_alone(tmp_path):
    """`_read_arrays` reads each member's header by its declared length (2 bytes in .npy 1.0, 4 in 2.0 and 3.0),
    then its array: the same arrays as np.load, whatever the version and the member's size."""
    import zipfile

    arrays = {"small": np.arange(3, dtype=np.int16), "big": np.arange(40_000, dtype=np.float64).reshape(200, 200).T,
              "empty": np.zeros(0, dtype=np.int32)}
    path = tmp_path / "entry.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for (name, array), version in zip(arrays.items(), [(1, 0), (2, 0), (3, 0)]):
            with zf.open(f"{name}.npy", "w") as member:
                np.lib.format.write_array(member, array, version=version, allow_pickle=False)
    read = cache._read_arrays(path)
    with np.load(path, allow_pickle=False) as z:
        assert sorted(read) == sorted(z.files)
        for name in z.files:
            assert read[name].dtype == z[name].dtype and np.array_equal(read[name], z[name])
