"""Facts against a rule's schema: one row through pydantic, whole columns at once for a frame.

Either way a missing value is an unknown fact (never a default) and each bad value is reported with its
row and its dotted field, in French.
"""
from __future__ import annotations

import datetime as dt
import functools
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr, ValidationError, \
    create_model, model_validator

from ..decisions.french import FORM_WORDS
from ..errors import BadInput, field_words, shown as shown_value
from . import values as V

if TYPE_CHECKING:  # pandas is imported where a pandas path needs it: the batch's CSV path runs without it
    import pandas as pd

PLACE_PARTS = ("lon", "lat", "quartier_code", "address")


# --- one row: pydantic -----------------------------------------------------------------------------

def _iso_date(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date) or v is None:
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise ValueError(f"date attendue au format AAAA-MM-JJ, reçu « {v} »")


class Place(BaseModel):
    """A place: {lon, lat} (WGS84), {quartier_code} or {address}: exactly one form."""

    model_config = ConfigDict(extra="forbid")
    lon: Optional[Annotated[float, Field(strict=True, ge=-180, le=180)]] = None
    lat: Optional[Annotated[float, Field(strict=True, ge=-90, le=90)]] = None
    quartier_code: Optional[StrictStr] = None
    address: Optional[StrictStr] = None

    @model_validator(mode="after")
    def _one_form(self):
        forms = [(self.lon is not None or self.lat is not None), self.quartier_code is not None,
                 self.address is not None]
        if sum(forms) != 1:
            raise ValueError("un lieu est {lon, lat}, {quartier_code} ou {address} (une seule de ces formes)")
        if forms[0] and (self.lon is None or self.lat is None):
            raise ValueError("un lieu en coordonnées demande lon ET lat")
        return self


def _field_type(fact) -> Any:
    bounds = {k: v for k, v in (("ge", fact.min), ("le", fact.max)) if v is not None}
    return {
        "date": Annotated[dt.date, BeforeValidator(_iso_date)],
        "enum": Literal[tuple(fact.values or ("",))],
        "bool": StrictBool,
        "number": Annotated[float, Field(strict=True, allow_inf_nan=False, **bounds)],
        "integer": Annotated[int, Field(strict=True, **bounds)],
        "string": StrictStr,
        "place": Place,
    }[fact.type]


def _tree(paths: list[str]) -> dict:
    tree: dict = {}
    for p in paths:
        node = tree
        parts = p.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = p
    return tree


def _model(name: str, tree: dict, facts: dict) -> type[BaseModel]:
    fields = {}
    for key, sub in tree.items():
        if isinstance(sub, dict):
            fields[key] = (Optional[_model(f"{name}_{key}", sub, facts)], None)
        else:
            fact = facts[sub]
            fields[key] = (Optional[_field_type(fact)], Field(default=None, description=fact.description))
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


@functools.lru_cache(maxsize=32)
def facts_model(rule) -> type[BaseModel]:
    return _model("Faits_" + rule.id.replace("-", "_"), _tree(list(rule.model.facts)), rule.model.facts)


def json_schema(rule) -> dict:
    schema = facts_model(rule).model_json_schema()
    schema["title"] = f"Faits — {rule.model.title}"
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"  # the dialect pydantic v2 writes
    schema["$id"] = f"qpv:rules/{rule.id}/facts"
    schema["description"] = (f"Faits attendus par la règle {rule.id} (version {rule.model.version}). "
                             "Un fait absent ou null est inconnu : jamais remplacé par une valeur par défaut.")
    return schema


_FR = {
    "extra_forbidden": "champ inconnu pour ce dispositif",
    "literal_error": "valeur non autorisée",
    "float_type": "nombre attendu", "int_type": "entier attendu", "bool_type": "booléen attendu (true/false)",
    "string_type": "texte attendu", "model_type": "objet attendu", "dict_type": "objet attendu",
    "greater_than_equal": "valeur trop petite", "less_than_equal": "valeur trop grande",
    "greater_than": "valeur trop petite", "less_than": "valeur trop grande",
    "finite_number": "nombre fini attendu (ni NaN ni infini)",
    "int_parsing": "entier attendu", "float_parsing": "nombre attendu", "bool_parsing": "booléen attendu (true/false)",
    "int_from_float": "entier attendu", "list_type": "liste attendue", "missing": "champ obligatoire absent",
    "string_too_short": "texte trop court", "string_too_long": "texte trop long",
    "string_pattern_mismatch": "format non reconnu",
}


def field_name(rule, path: str) -> str | None:
    """The French name of a field the user wrote (« employee.residence.lon » → « lieu de résidence, longitude »),
    None for a key the rule does not know."""
    facts = rule.model.facts
    if path in facts:
        return facts[path].name
    head, _, part = path.rpartition(".")
    if head in facts and part in FORM_WORDS:
        return f"{facts[head].name}, {FORM_WORDS[part]}"
    return None


def _unnest(facts: dict) -> dict:
    """Accept flat dotted keys as well as nested objects."""
    out: dict = {}
    for key, value in facts.items():
        node = out
        parts = str(key).split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise BadInput("objet attendu", field=key)
        node[parts[-1]] = value
    return out


def validate_one(rule, facts: Any) -> dict[str, Any]:
    """Validate one row of facts (nested or dotted) -> {dotted path: python value or None}."""
    if not isinstance(facts, dict):
        raise BadInput("les faits doivent être un objet JSON", field="facts")
    try:
        obj = facts_model(rule).model_validate(_unnest(facts))
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            path = ".".join(str(x) for x in e["loc"])
            if e["type"] == "value_error":  # our own validators already speak French and quote the value
                problems.append((path, str(e["ctx"]["error"])))
                continue
            # pydantic's messages are English: an error type missing from _FR still gets a French message.
            msg = _FR.get(e["type"], f"valeur invalide ({e['type']})")
            if e["type"] == "literal_error":
                msg += f" (attendu : {str(e['ctx'].get('expected')).replace(' or ', ' ou ')})"
            # the value as Python quotes it, cut: a 250 kB cell is not echoed back (issue 15, finding 9)
            problems.append((path, f"{msg} (reçu {shown_value(repr(e.get('input')), 120)})"))
        if len(problems) == 1:
            path, message = problems[0]
            raise BadInput(message, field=path, label=field_name(rule, path)) from None
        raise BadInput("faits invalides — " + " ; ".join(f"{field_words(p, field_name(rule, p))} : {m}"
                                                          for p, m in problems)) from None
    dumped = obj.model_dump()
    flat = {}
    for path, fact in rule.model.facts.items():
        node: Any = dumped
        for part in path.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        flat[path] = node
    return flat


def row_columns(rule, flat: dict[str, Any]) -> tuple[dict[str, V.Col], dict[str, "PlaceCols"], "BadValues"]:
    """Typed columns of length one straight from pydantic-validated values (no pandas on the single path)."""
    cols: dict[str, V.Col] = {}
    places: dict[str, PlaceCols] = {}
    for path, fact in rule.model.facts.items():
        v = flat.get(path)
        if fact.type == "place":
            v = v or {}
            form = ("lon_lat" if v.get("lon") is not None else "quartier_code" if v.get("quartier_code") is not None
                    else "address" if v.get("address") is not None else None)
            code = v.get("quartier_code")
            places[path] = PlaceCols(np.array([form], dtype=object),
                                     np.array([np.nan if v.get("lon") is None else v["lon"]], dtype=float),
                                     np.array([np.nan if v.get("lat") is None else v["lat"]], dtype=float),
                                     np.array([code.strip().upper() if code else None], dtype=object),
                                     np.array([v.get("address")], dtype=object))
            continue
        kind = {"date": "date", "bool": "bool", "number": "num", "integer": "num"}.get(fact.type, "str")
        if v is None or (kind == "str" and not str(v).strip()):
            cols[path] = V.unknown(kind, 1)
        elif kind == "date":
            cols[path] = V.const("date", V.days(v), 1)
        else:
            cols[path] = V.const(kind, str(v).strip() if kind == "str" else v, 1)
    return cols, places, BadValues(rule)


# --- columns: a frame --------------------------------------------------------------------------

@dataclass
class PlaceCols:
    form: np.ndarray  # object: 'lon_lat' | 'quartier_code' | 'address' | None
    lon: np.ndarray
    lat: np.ndarray
    quartier_code: np.ndarray
    address: np.ndarray

    forms: dict = field(default_factory=dict, repr=False, compare=False)  # form -> `form == form`, when known

    @functools.cached_property
    def known(self) -> np.ndarray:  # read by every geography question and blame: compared once
        return self.form != None  # noqa: E711 - elementwise on an object array

    def take(self, rows: np.ndarray) -> "PlaceCols":
        out = PlaceCols(self.form[rows], self.lon[rows], self.lat[rows], self.quartier_code[rows], self.address[rows],
                        {form: mask[rows] for form, mask in self.forms.items()})
        out.known = self.known[rows]
        return out

    def of_form(self, form: str) -> np.ndarray:
        """`self.form == form`, from the masks the columns were built with when they are at hand (an object
        comparison costs ~1 ms per 100,000 rows)."""
        if form not in self.forms:
            self.forms[form] = self.form == form
        return self.forms[form]


class BadValues:
    """Bad values found while converting columns: {row index (0-based): [messages]}."""

    def __init__(self, rule):
        self.rule = rule
        self.rows: dict[int, list[str]] = {}

    def add(self, mask: np.ndarray, field: str, message: str, shown=None) -> None:
        """`shown`: the column's cells (a pandas Series, a numpy array or an Arrow array), quoted in each message."""
        where = field_words(field, field_name(self.rule, field))
        if shown is None:
            cell = None
        elif isinstance(shown, np.ndarray):
            cell = shown.__getitem__
        elif _is_series(shown):
            cell = shown.iloc.__getitem__
        else:  # Arrow text: only the cells quoted become Python values (no pandas)
            def cell(i: int):
                return shown[i].as_py()
        for i in np.flatnonzero(mask)[:10_000]:
            got = "" if cell is None else f", reçu « {shown_value(cell(i))} »"
            self.rows.setdefault(int(i), []).append(f"{where} : {message}{got}")

    def raise_if_any(self) -> None:
        if not self.rows:
            return
        items = sorted(self.rows.items())
        text = " ; ".join(f"ligne {i + 1}, {m}" for i, ms in items[:20] for m in ms)
        more = f" … ({len(items)} lignes en erreur)" if len(items) > 20 else ""
        first_row = items[0][0] + 1
        raise BadInput(f"valeurs invalides — {text}{more}", row=first_row if len(items) == 1 else None)


def _missing(s: pd.Series) -> np.ndarray:
    """NA, or a blank / whitespace-only text cell: an unknown fact, whatever the column's dtype. Text comes as
    object columns (JSON, old readers) or as pandas string dtypes (pandas 3's default `str`, `string`,
    `string[pyarrow]`): all of them must read a blank cell as missing, never as a wrong value."""
    import pandas as pd

    out = s.isna().to_numpy(dtype=bool).copy()
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        blank = s.astype("string").str.strip().eq("").fillna(False).to_numpy(dtype=bool)
        out |= blank
    return out


def _date_col(s: pd.Series, field: str, bad: BadValues) -> V.Col:
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(s):
        known = s.notna().to_numpy()
        days = s.to_numpy(dtype="datetime64[D]", na_value=np.datetime64("1970-01-01")).astype(np.int64)
        return V.Col("date", np.where(known, days, 0), known)
    # Text or date objects: parse the distinct values only (a file holds few distinct dates), then index back.
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    texts = [v.isoformat()[:10] if isinstance(v, (dt.date, pd.Timestamp)) else str(v).strip() for v in uniques]
    parsed = pd.to_datetime(pd.Series(texts, dtype=object), format="%Y-%m-%d", errors="coerce")
    ok = parsed.notna().to_numpy()
    table = np.append(parsed.to_numpy(dtype="datetime64[D]", na_value=np.datetime64("1970-01-01")).astype(np.int64), 0)
    blank = np.array([t == "" for t in texts] + [True])
    known = np.append(ok, False)[codes]
    wrong = (~np.append(ok, False) & ~blank)[codes]
    if wrong.any():
        bad.add(wrong, field, "date invalide (AAAA-MM-JJ attendu)", s)
    return V.Col("date", np.where(known, table[codes], 0), known)


def _num_col(s: pd.Series, fact, field: str, bad: BadValues) -> V.Col:
    import pandas as pd

    missing = _missing(s)
    if s.dtype == bool or (s.dtype == object and s.map(lambda v: isinstance(v, bool)).any()):
        is_bool = s.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy()
        bad.add(is_bool, field, "nombre attendu, pas un booléen", s)
        s = s.where(~is_bool, None)
    conv = pd.to_numeric(s, errors="coerce").astype(float)
    value = conv.to_numpy()
    known = np.isfinite(value)
    bad.add(~missing & ~known, field, "nombre attendu", s)
    return _num_checked(value, known, fact, field, bad, s)


def _num_checked(value: np.ndarray, known: np.ndarray, fact, field: str, bad: BadValues, s) -> V.Col:
    """The number column once read: an integer, the minimum and the maximum checked (`s`: the values shown)."""
    if fact.type == "integer":
        frac = known & (value != np.floor(np.where(known, value, 0)))
        bad.add(frac, field, "entier attendu", s)
        known &= ~frac
    if fact.min is not None:
        low = known & (value < fact.min)
        bad.add(low, field, f"valeur inférieure au minimum {fact.min:g}", s)
        known &= ~low
    if fact.max is not None:
        high = known & (value > fact.max)
        bad.add(high, field, f"valeur supérieure au maximum {fact.max:g}", s)
        known &= ~high
    return V.Col("num", np.where(known, value, 0.0), known)


_TRUE = {"true", "1", "oui", "vrai", "yes"}
_FALSE = {"false", "0", "non", "faux", "no"}


SAMPLE = 8192  # cells looked at before hashing a whole column


def factorize(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """`pd.factorize(s)`: (code per row, -1 for a missing cell; distinct values in order of first appearance).
    A column held by Arrow (the batch's text cells) is hashed by Arrow's dictionary encoding directly, which
    pandas also calls but wraps at ~1 ms per 100,000-row column."""
    import pandas as pd

    if not isinstance(s.array, pd.arrays.ArrowStringArray):
        codes, uniques = pd.factorize(s, use_na_sentinel=True)
        return codes, np.asarray(uniques, dtype=object)
    arr = s.array.__arrow_array__()
    codes, uniques = arrow_codes(arr.combine_chunks() if hasattr(arr, "combine_chunks") else arr)
    from ..batch.arrow_only import to_texts

    return codes, to_texts(uniques)


def _is_series(s) -> bool:
    """Is `s` a pandas Series? (Asked without importing pandas: no Series exists before it is loaded.)"""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(s, pd.Series)


def per_distinct(convert, s, *args) -> tuple:
    """`convert(s, *args)` (a tuple of per-row arrays and flags) run once per distinct text of the column and
    broadcast to its rows: a cell's result depends on its text only, and a flag on whether some cell raises
    it. Columns of mostly distinct values (coordinates) and non-text columns are converted directly.
    `s`: a pandas Series, or an Arrow text array (`convert` then takes Arrow arrays too)."""
    if not _is_series(s):
        return _per_distinct_arrow(convert, s, *args)
    import pandas as pd

    if s.dtype == object or not pd.api.types.is_string_dtype(s.dtype):
        return convert(s, *args)  # objects: True and 1 would count as one distinct value
    if len(s) > 2 * SAMPLE and pd.Series(s.array[:SAMPLE]).nunique(dropna=False) > 0.95 * SAMPLE:
        return convert(s, *args)  # a first sample almost all distinct (coordinates): hashing the column is wasted
    codes, uniques = factorize(s)
    if len(uniques) > len(s) // 2:
        return convert(s, *args)
    distinct = pd.Series(np.append(uniques, None), dtype=s.dtype)  # NA last: code -1
    return tuple(_spread(r, codes) for r in convert(distinct, *args))


def _per_distinct_arrow(convert, arr, *args) -> tuple:
    """`per_distinct` on an Arrow text array, hashed by Arrow (no pandas Series): the same rule for the first
    cells as the batch's dates (`batch.columns.distinct_texts`), the same results (a null cell, if any, is one
    more distinct value, as pandas' NA is there)."""
    from ..batch.columns import distinct_texts

    found = distinct_texts(arr)
    if found is None or len(found[0]) > len(arr) // 2:
        return convert(arr, *args)
    values, codes = found
    return tuple(_spread(r, codes) for r in convert(values, *args))


def arrow_codes(arr) -> tuple[np.ndarray, "pa.Array"]:
    """(code per row, -1 for a null; the distinct values in order of first appearance, as an Arrow array):
    `factorize` of an Arrow array, by Arrow's dictionary encoding."""
    from ..batch import arrow_compute as ac

    encoded = ac.dictionary_encode(arr)
    indices = encoded.indices
    if indices.null_count:
        import pyarrow as pa

        indices = ac.fill_null(indices, pa.scalar(-1, indices.type))
    from ..batch.arrow_only import to_numpy  # pyarrow's own `to_numpy` would import pandas

    return to_numpy(indices).astype(np.intp, copy=False), encoded.dictionary


def _spread(per_value, codes: np.ndarray):
    """A per-distinct-value result to the rows. Messages that are all None (the usual case) are not indexed:
    an object take costs ~2 ms per 100,000 rows, a fresh array of None a tenth of that."""
    if not isinstance(per_value, np.ndarray):
        return per_value
    if per_value.dtype == object and np.equal(per_value, None).all():
        return np.full(len(codes), None, dtype=object)
    return per_value[codes]


def _bool_words(s: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(missing, reads true, reads false) per cell."""
    missing = _missing(s)
    text = s.astype(str).str.strip().str.lower().where(~missing, "")
    return missing, text.isin(_TRUE).to_numpy(), text.isin(_FALSE).to_numpy()


def _bool_col(s: pd.Series, field: str, bad: BadValues) -> V.Col:
    if s.dtype == bool:
        return V.Col("bool", s.to_numpy(), np.ones(len(s), dtype=bool))
    missing, is_true, is_false = per_distinct(_bool_words, s)
    known = is_true | is_false
    bad.add(~missing & ~known, field, "booléen attendu (true/false)", s)
    return V.Col("bool", is_true, known)


def _str_col(s: pd.Series, fact, field: str, bad: BadValues) -> V.Col:
    codes, uniques = factorize(s)
    return _coded_str(codes, uniques, fact, field, bad, lambda: s)


def _coded_str(codes: np.ndarray, uniques: np.ndarray, fact, field: str, bad: BadValues, shown) -> V.Coded:
    """A text column from its distinct values (few for an enum) and each row's code: no per-row Python.
    `shown()`: the column's cells, for the messages (error path only)."""
    labels = np.array([str(u).strip() for u in uniques], dtype=object)
    ok = labels != ""
    if fact.type == "enum":
        allowed = np.isin(labels, np.array(fact.values, dtype=object))
        wrong = ok & ~allowed
        if wrong.any():
            bad.add(np.append(wrong, False)[codes], field,
                    f"valeur non autorisée (attendu : {', '.join(fact.values)})", shown())
        ok &= allowed
    table = np.append(np.where(ok, labels, ""), "").astype(object)  # code -1 (missing) reads the last slot
    return V.Coded("str", table[codes], np.append(ok, False)[codes], codes, table)


def _place_cols(df: pd.DataFrame, path: str, bad: BadValues) -> PlaceCols:
    n = len(df)
    if path in df.columns:  # one column of dicts: expand it (single decisions, small files)
        objs = df[path]
        parts = {p: objs.map(lambda v, p=p: v.get(p) if isinstance(v, dict) else None) for p in PLACE_PARTS}
        not_dict = ~objs.map(lambda v: isinstance(v, dict) or v is None or (isinstance(v, float) and np.isnan(v)))
        bad.add(not_dict.to_numpy(), path, "lieu attendu ({lon, lat}, {quartier_code} ou {address})", objs)
    else:  # an absent part is None: no column of n Nones to build and read (a batch has only some parts)
        parts = {p: df[f"{path}.{p}"] if f"{path}.{p}" in df.columns else None for p in PLACE_PARTS}
    return _place_parts(parts, n, path, bad)


def _place_parts(parts: dict, n: int, path: str, bad: BadValues) -> PlaceCols:
    """A place from its parts (lon, lat: Series or float arrays; quartier_code, address: Series; None: absent)."""
    none = np.zeros(n, dtype=bool)

    def numbers(part) -> np.ndarray:
        if isinstance(part, np.ndarray):  # already read as numbers (NaN: missing or refused)
            return part
        if part is None:
            return np.full(n, np.nan)
        import pandas as pd

        return pd.to_numeric(part, errors="coerce").astype(float).to_numpy()

    def present(part) -> np.ndarray:
        if isinstance(part, np.ndarray):
            return ~np.isnan(part)
        return none if part is None else ~_missing(part)

    def texts(part, where: np.ndarray) -> np.ndarray:
        if part is None:
            return np.full(n, None, dtype=object)
        return part.astype(object).where(where, None).to_numpy(dtype=object)

    lon, lat = numbers(parts["lon"]), numbers(parts["lat"])
    given, usable = {}, {}
    for p, arr, lim in (("lon", lon, 180), ("lat", lat, 90)):
        given[p] = present(parts[p])
        wrong = given[p] & (~np.isfinite(arr) | (np.abs(np.nan_to_num(arr)) > lim))
        bad.add(wrong, f"{path}.{p}", f"coordonnée invalide (WGS84, |{p}| ≤ {lim})", parts[p])
        usable[p] = given[p] & ~wrong
    # a refused coordinate is reported once, above, and never reaches geography (which would refuse
    # the whole batch): the row is an error row, its neighbours are answered
    has_ll = usable["lon"] & usable["lat"]
    half = given["lon"] ^ given["lat"]
    bad.add(half, path, "un lieu en coordonnées demande lon ET lat")
    code = present(parts["quartier_code"])
    addr = present(parts["address"])
    forms = has_ll.astype(int) + code + addr
    bad.add(forms > 1, path, "un lieu a une seule forme : {lon, lat}, {quartier_code} ou {address}")
    form = np.full(n, None, dtype=object)
    one = forms == 1
    masks = {"lon_lat": one & has_ll, "quartier_code": one & code, "address": one & addr}
    for name, mask in masks.items():
        form[mask] = name
    qc, ad = texts(parts["quartier_code"], code), texts(parts["address"], addr)
    out = PlaceCols(form, lon, lat, qc, ad, masks)
    out.known = one
    return out


def frame_columns(rule, df: pd.DataFrame) -> tuple[dict[str, V.Col], dict[str, PlaceCols], BadValues]:
    """Convert a frame's columns (dotted paths) to typed columns; an absent column is all unknown."""
    n = len(df)
    df = df.reset_index(drop=True)
    bad = BadValues(rule)
    cols: dict[str, V.Col] = {}
    places: dict[str, PlaceCols] = {}
    for path, fact in rule.model.facts.items():
        if fact.type == "place":
            places[path] = _place_cols(df, path, bad)
            continue
        if path not in df.columns:
            kind = {"date": "date", "bool": "bool", "number": "num", "integer": "num"}.get(fact.type, "str")
            cols[path] = V.unknown(kind, n)
            continue
        s = df[path]
        if fact.type == "date":
            cols[path] = _date_col(s, path, bad)
        elif fact.type in ("number", "integer"):
            cols[path] = _num_col(s, fact, path, bad)
        elif fact.type == "bool":
            cols[path] = _bool_col(s, path, bad)
        else:
            cols[path] = _str_col(s, fact, path, bad)
    return cols, places, bad


def typed_columns(rule, n: int, given: dict) -> tuple[dict[str, V.Col], dict[str, PlaceCols], BadValues]:
    """`frame_columns` of a frame whose columns are already read: `given` {dotted path (places: one per part):
    float array (numbers; NaN: missing), datetime64[D] array (dates; NaT: missing) or Arrow text array (yes/no,
    codes, enums, a place's quartier code or address)}. The same columns and bad values as `frame_columns` of a
    DataFrame holding them, without a pandas Series per column (the batch's CSV chunks, issue 13)."""
    bad = BadValues(rule)
    cols: dict[str, V.Col] = {}
    places: dict[str, PlaceCols] = {}
    for path, fact in rule.model.facts.items():
        if fact.type == "place":
            parts = {p: given.get(f"{path}.{p}") for p in PLACE_PARTS}
            for p in ("quartier_code", "address"):  # rare in a batch: read as `frame_columns` reads them
                if parts[p] is not None:
                    parts[p] = parts[p].to_pandas()
            places[path] = _place_parts(parts, n, path, bad)
        elif path not in given:
            kind = {"date": "date", "bool": "bool", "number": "num", "integer": "num"}.get(fact.type, "str")
            cols[path] = V.unknown(kind, n)
        elif fact.type == "date":
            v = given[path]
            known = ~np.isnat(v)
            cols[path] = V.Col("date", np.where(known, v.astype(np.int64), 0), known)
        elif fact.type in ("number", "integer"):
            v = given[path]
            known = np.isfinite(v)
            bad.add(~np.isnan(v) & ~known, path, "nombre attendu", v)  # as `_num_col`: an infinity
            cols[path] = _num_checked(v, known, fact, path, bad, v)
        elif fact.type == "bool":
            cols[path] = _arrow_bool_col(given[path], path, bad)
        else:
            from ..batch.arrow_only import to_texts

            text = given[path]
            codes, uniques = arrow_codes(text)
            cols[path] = _coded_str(codes, to_texts(uniques), fact, path, bad, lambda text=text: text)
    return cols, places, bad


def _arrow_bool_col(text, field: str, bad: BadValues) -> V.Col:
    """`_bool_col` of an Arrow text column: the words read once per distinct text, as `per_distinct` reads them."""
    from ..batch import arrow_compute as ac

    codes, uniques = arrow_codes(text)
    # the few distinct words read by the kernels pandas' Arrow strings use for `_bool_words` (strip, then lower),
    # without a pandas Series per column (~9 ms of pandas calls per column and chunk for three words)
    words = ac.utf8_lower(ac.utf8_trim_whitespace(uniques)).to_pylist() + [None]  # code -1: the null, last
    missing, is_true, is_false = (_spread(np.array([test(w) for w in words], dtype=bool), codes) for test in
                                  (lambda w: w is None or w == "", _TRUE.__contains__, _FALSE.__contains__))
    known = is_true | is_false
    wrong = ~missing & ~known
    if wrong.any():
        bad.add(wrong, field, "booléen attendu (true/false)", text)
    return V.Col("bool", is_true, known)
