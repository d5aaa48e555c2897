"""qpv: a rules-as-code engine for France's politique de la ville.

Subpackages, by domain concept:
- `eligibility.datasets`   reference data manifest, checksums, provenance
- `eligibility.geography`  perimeter vintages, point -> quartier, carreaux
- `eligibility.rules`      rule files, dated parameters, expression evaluation
- `eligibility.decisions`  decision and trace models, renderers
- `eligibility.batch`      chunked file evaluation, Dask backend
"""

__version__ = "0.1.0"
