"""`qpv batch locate`: each row's error is the first that applies, in a fixed order — the longitude's, the
latitude's, a missing coordinate, coordinates out of range, then the date's — whichever of them occur together
in the row or elsewhere in the chunk (a check that finds nothing in the chunk adds nothing)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from eligibility.batch import run_file
from eligibility.batch.locate import LocateJob

LON = {"ok": "2.35", "text": "abc", "blank": "", "far": "200"}
LAT = {"ok": "48.85", "text": "x", "blank": "", "far": "-95"}
DATE = {"ok": "2024-06-01", "blank": "", "bad": "2024-02-30"}
OUT_OF_RANGE = "coordonnées hors limites : longitude dans [-180, 180] et latitude dans [-90, 90] attendues"


def _expected(lon: str, lat: str, date: str, date_option: bool) -> str | None:
    if lon == "text":
        return "colonne « lon » : nombre attendu, reçu « abc »"
    if lat == "text":
        return "colonne « lat » : nombre attendu, reçu « x »"
    if "blank" in (lon, lat):
        return "coordonnée manquante"
    if "far" in (lon, lat):
        return OUT_OF_RANGE
    if date == "blank" and not date_option:
        return "colonne « date » vide et pas d'option --date"
    if date == "bad":
        return "__date__"  # the date reader's own message (checked to name the column)
    return None


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(sorted(LON)), st.sampled_from(sorted(LAT)), st.sampled_from(sorted(DATE))),
                     min_size=1, max_size=30),
       date_option=st.booleans())
def test_property_each_row_gets_the_first_error_that_applies(tmp_path_factory, rows, date_option):
    tmp = tmp_path_factory.mktemp("errors")
    src = tmp / "in.csv"
    src.write_text("lon,lat,date\n" + "".join(f"{LON[a]},{LAT[b]},{DATE[c]}\n" for a, b, c in rows), encoding="utf-8")
    job = lambda renamed: LocateJob(renamed, date=dt.date(2024, 1, 1) if date_option else None,  # noqa: E731
                                    fields=("status", "quartier_code"))
    run_file(job, src, tmp / "out.csv", chunk_size=7, show_progress=False, workers=1)
    out = pd.read_csv(tmp / "out.csv", dtype=str, keep_default_na=False)
    assert len(out) == len(rows)
    for (a, b, c), status, error in zip(rows, out["status"], out["error"]):
        want = _expected(a, b, c, date_option)
        if want is None:
            assert status != "error" and error == "", (a, b, c, error)
        elif want == "__date__":
            assert status == "error" and "date" in error, (a, b, c, error)
        else:
            assert status == "error" and error.startswith(want), (a, b, c, error)
