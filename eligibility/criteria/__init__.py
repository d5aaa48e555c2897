"""QPV criteria on INSEE 200 m carreaux (décret n° 2014-767 art. 2 and 4). See docs/criteria.md.

Modules, in the order a derivation uses them:
    filosofi.read_carreaux        Filosofi carreaux files (INSEE layouts, bundled extracts) -> Carreaux
    unites_urbaines.facts         a unité urbaine's name, population and median, with provenance
    threshold.compute / .trace    the threshold S (exact) and the 10 000-inhabitant criterion
    grouping.label                contiguous carreaux (sparse connected components), weighted medians
    derivation.derive             all criteria on carreaux -> Derivation (groups, statuses, traces)
    output.write                  GeoJSON (WGS84) and CSV table
    comparison.compare            derived groups against an official perimeter vintage
    parameters                    dated parameters of rules/criteres_qpv.yaml via the rules engine

Nothing is imported here, so that `qpv threshold` does not pay for pandas or shapely.
"""
