"""Rule files are checked at load time: a bad rule names the file and the key."""

from __future__ import annotations

import pytest
import yaml

from engine.errors import DefinitionError
from engine.profile import load_profile
from engine.rulebook import load_rulebook

BASE = {
    "id": "x.rule", "title": {"zh": "标题", "en": "title"}, "severity": "error", "category": "程序",
    "deduction": 5, "fact": "decision", "message": {"zh": "{decision_date}", "en": "{decision_date}"},
    "fix": {"zh": "改", "en": "fix"}, "checks": {"zh": "查", "en": "checks"},
    "versions": [{"from": "2021-07-15", "basis": [{"law": "中华人民共和国行政处罚法", "version": "2021修订",
                                                   "article": "第一条"}], "when": [["fine_fen", ">", 100]]}],
}


def load(tmp_path, **change):
    rule = {**BASE, **change}
    (tmp_path / "r.yaml").write_text(yaml.safe_dump([rule], allow_unicode=True), encoding="utf-8")
    return load_rulebook(load_profile(), tmp_path)


def test_base_rule_loads(tmp_path):
    book = load(tmp_path)
    assert list(book.rules) == ["x.rule"]


@pytest.mark.parametrize("change, key, fragment", [
    ({"versions": [{**BASE["versions"][0], "when": [["fine_yuan", ">", 1]]}]}, "when[0]", "no condition field"),
    ({"versions": [{**BASE["versions"][0], "when": [["fine_fen", ">", 1.5]]}]}, "when[0]", "is float"),
    ({"versions": [{**BASE["versions"][0], "when": [["review_required", "==", 1]]}]}, "when[0]", "is int"),
    ({"versions": [{**BASE["versions"][0], "when": [["procedure", ">", "a"]]}]}, "when[0]", "compares numbers only"),
    ({"versions": [{**BASE["versions"][0], "when": [["fine_fen", "=~", 1]]}]}, "when[0]", "operator"),
    ({"versions": [{**BASE["versions"][0], "basis": []}]}, "basis", "cites its legal basis"),
    ({"message": {"zh": "{nope}", "en": "x"}}, "message..zh", "no field 'nope'"),
    ({"message": {"zh": "{decision_date.__class__}", "en": "x"}}, "message..zh", "plain field name"),
    ({"severity": "fatal"}, "severity", "one of"),
    ({"fact": "unicorn"}, "fact", "one of"),
    ({"title": {"zh": "只有中文"}}, "title", "zh and en"),
    ({"versions": [{**BASE["versions"][0], "when": [["fine_fen", ">", {"param": "nope"}]]}]}, "when[0]", "no parameter"),
])
def test_bad_rule_is_a_definition_error(tmp_path, change, key, fragment):
    with pytest.raises(DefinitionError) as err:
        load(tmp_path, **change)
    assert err.value.source.endswith("r.yaml")
    assert err.value.key.endswith(key) and fragment in err.value.problem


def test_overlapping_versions_refused(tmp_path):
    v = BASE["versions"][0]
    with pytest.raises(DefinitionError, match="date order without overlap"):
        load(tmp_path, versions=[v, {**v, "from": "2022-01-01"}])


def test_every_shipped_rule_cites_basis_and_dates(rulebook):
    for rule in rulebook.rules.values():
        assert rule.versions and all(v.basis for v in rule.versions)
        assert rule.effective_from.year >= 1996
        for v in rule.versions:
            assert all(b.law and b.article for b in v.basis)


def test_bad_profile_names_file_and_key(tmp_path):
    (tmp_path / "p.yaml").write_text("name: p\nregion: x\nparams:\n  legal_review_all_ordinary_penalties:\n"
                                     "    value: 'yes'\n    source: s\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_profile(tmp_path / "p.yaml")
    assert err.value.key == "params.legal_review_all_ordinary_penalties.value"
