"""Profiles, legal periods, exemption lists and document lists: loaded strictly, errors name file and key."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from engine.documents import load_documents
from engine.errors import DefinitionError
from engine.exemptions import load_exemptions, months_before
from engine.periods import load_periods
from engine.profile import PARAM_TYPES, load_profile
from conftest import ROOT

SHIPPED = yaml.safe_load((ROOT / "rules" / "profiles" / "tianjin.yaml").read_text(encoding="utf-8"))


def write_profile(tmp_path, **params):
    data = {**SHIPPED, "params": {**SHIPPED["params"], **params}}
    data["params"] = {k: v for k, v in data["params"].items() if v is not None}
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_profile_gives_every_param_with_its_source():
    profile = load_profile("tianjin")
    assert set(profile.params) == set(PARAM_TYPES)
    assert all(profile.sources[k] for k in PARAM_TYPES)
    assert profile["hearing_fine_person"] == 500_000            # 5,000 yuan in fen
    assert profile["review_grades"][0] == ("优秀", 90)
    assert "hearing_fine_person" in profile.unverified          # not found in a Tianjin source
    assert "legal_review_all_ordinary_penalties" not in profile.unverified


@pytest.mark.parametrize("param", sorted(PARAM_TYPES))
def test_missing_param_names_file_and_key(tmp_path, param):
    with pytest.raises(DefinitionError) as err:
        load_profile(write_profile(tmp_path, **{param: None}))
    assert err.value.source.endswith("p.yaml") and err.value.key == f"params.{param}"


@pytest.mark.parametrize("param, value, fragment", [
    ("hearing_fine_person", "5000", "number"),
    ("hearing_fine_person", 5000.001, "two decimals"),
    ("statement_period_days", 3.5, "whole number"),
    ("statement_period_days", True, "number"),
    ("credit_publicity_party_kinds", "organization", "list of codes"),
    ("review_grades", {"优秀": 90, "良好": 95}, "descending"),
    ("decision_clock_pauses", ["holiday"], "not one of"),
    ("exemption_list", "", "text"),
])
def test_malformed_param_names_file_and_key(tmp_path, param, value, fragment):
    entry = {**SHIPPED["params"][param], "value": value}
    with pytest.raises(DefinitionError) as err:
        load_profile(write_profile(tmp_path, **{param: entry}))
    assert err.value.key.startswith(f"params.{param}.value") and fragment in err.value.problem


def test_unknown_param_refused(tmp_path):
    with pytest.raises(DefinitionError) as err:
        load_profile(write_profile(tmp_path, typo_param={"value": 1, "source": "s"}))
    assert err.value.key == "params.typo_param"


def test_periods_follow_the_date_of_the_starting_act():
    periods = load_periods(load_profile())
    service_2019 = periods.at("service", dt.date(2021, 7, 14))
    service_2021 = periods.at("service", dt.date(2021, 7, 15))
    assert (service_2019.days, service_2019.unit) == (7, "calendar")
    assert (service_2021.days, service_2021.unit) == (7, "workdays")
    assert periods.at("decision", dt.date(2021, 7, 14)) is None          # no 90-day limit before
    assert periods.at("statement", dt.date(2024, 1, 2)).days == load_profile()["statement_period_days"]
    assert periods.at("publicity_withdrawal", dt.date(2020, 1, 2)) is None


def test_period_with_unknown_param_is_refused(tmp_path):
    path = tmp_path / "periods.yaml"
    path.write_text("- id: x\n  title: {zh: 甲, en: x}\n  versions:\n"
                    "    - {from: 2021-07-15, days: {param: nope}, unit: workdays, basis: b}\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_periods(load_profile(), path)
    assert err.value.key == "x.versions[0].days"


@pytest.mark.parametrize("item, key", [
    ({"matter": "A", "name": "n", "lookback_months": 12, "correction_days": 3, "harm_allowed": ["none", "tiny"],
      "source": "s"}, "items[0].harm_allowed"),
    ({"matter": "A", "name": "n", "lookback_months": 0, "correction_days": 3, "harm_allowed": ["none"],
      "source": "s"}, "items[0].lookback_months"),
    ({"matter": "A", "name": "n", "lookback_months": 12, "correction_days": 3, "harm_allowed": ["none"],
      "source": "s", "extra": 1}, "items[0].extra"),
])
def test_bad_exemption_item_names_file_and_key(tmp_path, item, key):
    path = tmp_path / "list.yaml"
    path.write_text(yaml.safe_dump({"name": "x", "source": "s", "effective_from": "2021-07-15", "items": [item]}),
                    encoding="utf-8")
    with pytest.raises(DefinitionError) as err:
        load_exemptions(str(path))
    assert err.value.source.endswith("list.yaml") and err.value.key == key


def test_shipped_exemption_list_and_documents_load():
    listing = load_exemptions("tianjin")
    assert listing.item("LJ-0103", dt.date(2024, 1, 2)).lookback_months == 12
    assert listing.item("LJ-0103", dt.date(2021, 7, 14)) is None         # no first-offence rule before
    assert listing.item("XF-0201", dt.date(2024, 1, 2)) is None          # fire exits are not on the list
    docs = load_documents()
    assert docs["served"].satisfied_by(["送达回证"]) and not docs["served"].satisfied_by(["询问笔录"])


def test_months_before_keeps_the_day_or_the_month_end():
    assert months_before(dt.date(2024, 3, 1), 12) == dt.date(2023, 3, 1)
    assert months_before(dt.date(2024, 3, 31), 1) == dt.date(2024, 2, 29)
    assert months_before(dt.date(2024, 2, 29), 12) == dt.date(2023, 2, 28)
