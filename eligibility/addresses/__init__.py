"""Addresses: French address normalisation, a local geocoder (BAN / BAL / BANO index), an addok client,
and `locate_addresses`, the address form of geography's `locate_points`.

Public surface:
    normalize, match_key          text normalisation (normalize.py)
    parse_addresses               free text -> number, indice, street, lieu-dit, postcode, town (parse.py)
    build_index, load_index, default_index   the on-disk index (index.py)
    geocode                       batch geocoding -> GeocodeResult (geocoder.py)
    AddokClient                   BAN / addok HTTP protocol (addok.py)
    locate_addresses, compose_address   addresses -> LocateResult; batch columns -> address text (locate.py)
"""
from .geocoder import LEVELS, GeocodeResult, geocode
from .index import build_index, default_index, load_index
from .normalize import match_key, normalize
from .parse import parse_addresses

__all__ = ["LEVELS", "GeocodeResult", "geocode", "build_index", "default_index", "load_index", "match_key",
           "normalize", "parse_addresses", "locate_addresses", "compose_address", "AddokClient"]


def __getattr__(name):  # locate pulls geography in, the client pulls httpx: only when asked for
    if name in ("locate_addresses", "compose_address"):
        from . import locate
        return getattr(locate, name)
    if name == "AddokClient":
        from .addok import AddokClient
        return AddokClient
    raise AttributeError(name)
