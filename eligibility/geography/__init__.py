"""Geography: perimeter vintages, point -> quartier, carreaux."""
