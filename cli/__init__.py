"""The `qpv` command (installed as the `qpv_cli` package)."""
