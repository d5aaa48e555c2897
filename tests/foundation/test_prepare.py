"""`qpv data prepare` builds every derived index once, so that first queries do not pay for it."""
from click.testing import CliRunner

from eligibility.geography import index
from qpv_cli.main import qpv


def test_prepare_readies_every_vintage_and_zone_with_contours():
    ready = index.prepare_all()
    assert "quartiers qp2024 metropole" in ready
    assert "quartiers qp2015_occitanie metropole" in ready
    assert "départements reunion" in ready
    assert "communes" in ready  # the stacked commune grids of large batches
    # QP2015 is bundled for metropolitan France only: no overseas index is claimed for it
    assert not any(name.startswith("quartiers qp2015_occitanie") and not name.endswith("metropole") for name in ready)


def test_prepare_command_reports_the_address_index():
    result = CliRunner().invoke(qpv, ["data", "prepare"])
    assert result.exit_code == 0, result.output
    assert "index d'adresses" in result.output
    assert "quartiers qp2024 metropole" in result.output
