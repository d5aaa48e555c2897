"""Client for the BAN geocoding protocol (addok): `/search/`, `/search/csv/`, `/reverse/`.

Off by default: the engine geocodes with its local index. Give a base URL (`--addok-url`, or the
environment variable QPV_ADDOK_URL) to use a server: your own addok, or the public BAN API
(https://api-adresse.data.gouv.fr, which needs network access). Results come back in the same shape
as the local geocoder's rows: lon, lat, level (addok's `type`), score, label, source.
"""
from __future__ import annotations

import io
import os

import pandas as pd

from ..errors import BadInput

ENV_URL = "QPV_ADDOK_URL"
PUBLIC_BAN_URL = "https://api-adresse.data.gouv.fr"
ADDOK_LEVELS = {"housenumber": "housenumber", "street": "street", "locality": "locality",
                "municipality": "municipality", "interpolation": "interpolated"}


class AddokClient:
    def __init__(self, base_url: str | None = None, timeout: float = 30.0):
        url = base_url or os.environ.get(ENV_URL)
        if not url:
            raise BadInput(f"aucun serveur addok configuré : donnez --addok-url ou la variable {ENV_URL} "
                           f"(API publique de la BAN : {PUBLIC_BAN_URL})", field="--addok-url")
        import httpx

        self.base_url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _get(self, path: str, params: dict) -> dict:
        import httpx

        try:
            resp = self._http.get(path, params=params)
            resp.raise_for_status()
            return resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise BadInput(f"serveur addok {self.base_url} injoignable ou en erreur : {exc}", field="--addok-url") \
                from None

    def search(self, q: str, limit: int = 5, **filters) -> list[dict]:
        """Best matches of one address text, best first (filters: postcode, citycode, type)."""
        data = self._get("/search/", {"q": q, "limit": limit, **filters})
        return [_feature_row(f) for f in data.get("features", [])]

    def reverse(self, lon: float, lat: float, limit: int = 1) -> list[dict]:
        data = self._get("/reverse/", {"lon": lon, "lat": lat, "limit": limit})
        return [_feature_row(f) for f in data.get("features", [])]

    def search_csv(self, texts, column: str = "address") -> pd.DataFrame:
        """Batch geocoding with `/search/csv/`: one row per input text, result_* columns as addok gives them."""
        import httpx

        texts = list(texts)
        # A `row` column makes the `;` delimiter explicit (addok sniffs it); addok sends it back.
        body = pd.DataFrame({"row": range(1, len(texts) + 1), column: texts}).to_csv(index=False, sep=";")
        try:
            resp = self._http.post("/search/csv/", files={"data": ("input.csv", body.encode("utf-8"), "text/csv")},
                                   data={"columns": column})
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise BadInput(f"serveur addok {self.base_url} injoignable ou en erreur : {exc}", field="--addok-url") \
                from None
        out = pd.read_csv(io.StringIO(resp.content.decode("utf-8-sig")), sep=";", dtype=str, keep_default_na=False)
        for col in ("latitude", "longitude", "result_score"):
            if col in out:
                out[col] = pd.to_numeric(out[col], errors="coerce")
        return out


def _feature_row(feature: dict) -> dict:
    props = feature.get("properties", {})
    lon, lat = feature.get("geometry", {}).get("coordinates", [None, None])
    return {"lon": lon, "lat": lat, "level": ADDOK_LEVELS.get(props.get("type"), props.get("type")),
            "score": props.get("score"), "label": props.get("label"), "citycode": props.get("citycode"),
            "source": {"addok": props.get("id"), "type": props.get("type")}}
