"""The sha256 of `reference_data/manifest.yaml`, pinned in the package.

The manifest vouches for every reference file, and its validity periods and coverage decide which
list answers where: it is checked against this value before it is parsed, so a one-byte change to a
date or a région is refused instead of silently turning answers into `not_covered`.

Changing the manifest (a new dataset, a corrected period) is a change to the engine: update this value
in the same commit (`sha256sum reference_data/manifest.yaml`), and `qpv data verify` checks the result.
"""
MANIFEST_SHA256 = "f4a3ff60ee24440e77c0e37f78205b4156b76cc06d52d5ac5461812a938bd9a5"
