"""QPV criteria on INSEE 200 m carreaux (décret n° 2014-767 art. 2 and 4): threshold, derivation, comparison."""
