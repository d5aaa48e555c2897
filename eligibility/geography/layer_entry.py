"""One entry of an imported layers' manifest (`layers.yaml`, see layers.py), validated by pydantic.

Its own module: `layers` imports it only when a layers manifest is read or written, so a process without imported
layers (most batches) does not import pydantic for it.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from .. import datasets, integrity
from ..integrity import Source
from ..paths import layers_dir
from .layers import LABEL_PREFIX, tolerance_from_precision


class Layer(BaseModel):
    """One entry of layers.yaml."""

    model_config = ConfigDict(extra="forbid")
    name: str
    kind: str
    vintage: str | None = None
    title: str
    file: str                  # stored file, relative to layers_dir()
    sha256: str                # of the stored file
    bytes: int
    original_file: str
    original_sha256: str
    original_crs: str
    original_format: str
    source: str
    licence: str
    imported_at: str           # ISO date-time (UTC) of the import
    features: int
    repaired: int              # invalid geometries repaired on import
    precision_m: float
    precision_declared: bool   # False: the default 1 m, no --precision-m given
    code_field: str
    name_field: str | None
    commune_field: str | None = None  # None: communes located from each feature's representative point
    territory: str | None      # declared complete for: metropole | outre_mer | all; None: where it has features
    departements: list[str]
    regions: list[str]
    valid_from: dt.date
    valid_to: dt.date | None = None
    validity: list[datasets.Validity] = []   # perimetres: the calendar rows it answers for

    @property
    def dataset_id(self) -> str:
        return f"{self.name}@{self.sha256[:16]}"

    @property
    def tolerance_m(self) -> float:
        return tolerance_from_precision(self.precision_m)

    def as_dataset(self) -> datasets.Dataset:
        """The layer in the bundled datasets' shape (what traces and caches read)."""
        caveats = [f"couche importée « {self.name} » le {self.imported_at[:10]} depuis le fichier {self.original_file} "
                   f"(sha256 {self.original_sha256[:12]}…)"]
        if self.repaired:
            caveats.append(f"{self.repaired} géométrie(s) invalide(s) réparée(s) à l'import")
        if self.commune_field is None:
            caveats.append("le fichier ne donne pas les codes de communes : commune du point représentatif de chaque "
                           "périmètre (contours IGN 2018), une seule par quartier")
        if not self.precision_declared:
            caveats.append("précision non déclarée à l'import : 1 m retenu par défaut")
        return datasets.Dataset(
            id=self.dataset_id, kind=self.kind, vintage=self.vintage or "", title=self.title, source=self.source,
            licence=self.licence, crs="EPSG:4326", extra={"precision_m": self.precision_m},
            coverage={"description": self.coverage_text(), "regions": "all" if self.territory else self.regions,
                      "departements": None if self.territory else self.departements},
            validity=self.validity, caveats=caveats,
            files=[datasets.DataFile(path=self.stored().label, sha256=self.sha256, bytes=self.bytes)],
        )

    def stored(self) -> Source:
        """The stored file and the sha256 its entry vouches for (`integrity` hashes and reads it)."""
        return Source(layers_dir() / self.file, self.sha256, f"{LABEL_PREFIX}{self.file}")

    @property
    def entry_sha256(self) -> str:
        """sha256 of this manifest entry (canonical JSON): dates, precision, coverage as well as the file's sha256."""
        return integrity.sha256_bytes(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode("utf-8"))

    def provenance(self) -> dict[str, Any]:
        return {"dataset": self.dataset_id, "layer": self.name, "kind": self.kind, "vintage": self.vintage,
                "sha256": self.sha256, "original_file": self.original_file, "original_sha256": self.original_sha256,
                "source": self.source, "licence": self.licence, "imported_at": self.imported_at}

    def coverage_text(self) -> str:
        if self.territory:
            return {"all": "France entière", "metropole": "France métropolitaine", "outre_mer": "outre-mer"}[self.territory] \
                + " (déclarée complète à l'import)"
        return "départements " + ", ".join(self.departements)
