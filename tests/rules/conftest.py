"""Shared fixtures of the rules tests."""
import pytest

from eligibility.rules.loader import load_file

_PLACE_RULE_HEAD = """
id: {rule_id}
kind: criterion
title: {title}
version: "1"
legal_texts:
  - {{id: essai, text: Texte d'essai, effective: 2020-01-01, confirmed: true}}
validity: {{from: 2020-01-01, to: null}}
decision_date:
  expression: day
  label: date d'appréciation
  legal_reference: {{text: essai}}
facts:
  day: {{type: date, description: Date}}
  site: {{type: place, description: Lieu}}
"""


@pytest.fixture(scope="module")
def place_rule(tmp_path_factory):
    """A test criterion over one place fact `site` and a date fact `day`: give it its `conditions:` block."""
    def make(rule_id: str, title: str, conditions: str):
        path = tmp_path_factory.mktemp("rules") / f"{rule_id}.yaml"
        path.write_text(_PLACE_RULE_HEAD.format(rule_id=rule_id, title=title) + conditions, encoding="utf-8")
        return load_file(path)
    return make
