"""The store on SQLite and on a real PostgreSQL 15: import, idempotence, atomicity, live refusal, audit chain."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import shutil
import subprocess

import pytest
from sqlalchemy import func, text
from sqlmodel import select

from engine.cases import StepRefused, import_paths, record
from engine.store import Store
from engine.store.repo import verify
from engine.store.tables import CaseRow, ChangeRow, EventRow, OfficerRow
from conftest import ROOT
import pg

DEMO = ROOT / "fixtures" / "demo"
RULES = ROOT / "fixtures" / "rules"


def counts(store):
    with store.reading() as s:
        return tuple(s.exec(select(func.count()).select_from(t)).one() for t in (CaseRow, EventRow, OfficerRow))


def test_import_twice_changes_nothing(url):
    store = Store.open(url)
    first = import_paths(store, [DEMO], actor="t")
    assert (first.new, first.updated, first.unchanged, first.problems) == (41, 0, 0, [])
    after_first = counts(store)
    second = import_paths(store, [DEMO], actor="t")
    assert (second.new, second.updated, second.unchanged) == (0, 0, 41)
    assert counts(store) == after_first
    with store.reading() as s:
        assert verify(s) == []
        assert s.exec(select(text("version_num")).select_from(text("alembic_version"))).one() == "0013"


def test_a_bad_file_stores_nothing(url, tmp_path):
    store = Store.open(url)
    import_paths(store, [DEMO / "xuefu"], actor="t")
    before = counts(store)
    bad = tmp_path / "set"
    shutil.copytree(DEMO / "nkcgw", bad)
    (bad / "broken.yaml").write_text("case_id: X-1\nagency: {code: a, name: b}\nprocedure: ordinary\n"
                                     "events:\n  - {type: decided, date: 2024-13-01}\n", encoding="utf-8")
    report = import_paths(store, [bad], actor="t")
    assert report.exit_code == 2
    assert any(p.file.endswith("broken.yaml") and p.case_id == "X-1" and p.field.startswith("events.0")
               for p in report.problems)
    assert counts(store) == before


def test_a_changed_event_is_a_reported_conflict_never_an_overwrite(url, tmp_path):
    """Stored events are never rewritten (issue 17): a file whose event differs from the stored one is a
    conflict with both versions; the store keeps what it had and the chain is intact."""
    store = Store.open(url)
    src = tmp_path / "one"
    shutil.copytree(DEMO / "xuefu", src)
    import_paths(store, [src], actor="t")
    before = counts(store)
    with store.reading() as s:
        payloads = [e.payload for e in s.exec(select(EventRow).order_by(EventRow.id)).all()]
    path = src / "xuefu-ordinary-01.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("certificates_shown: true", "certificates_shown: false", 1),
                    encoding="utf-8")
    report = import_paths(store, [src], actor="法制员")
    assert (report.updated, report.new) == (0, 0) and report.exit_code == 1
    [conflict] = report.conflicts
    assert conflict.where.startswith("event #") and conflict.stored["certificates_shown"] is True
    assert conflict.file["certificates_shown"] is False and "xuefu-ordinary-01" in str(conflict)
    assert counts(store) == before
    with store.reading() as s:
        assert [e.payload for e in s.exec(select(EventRow).order_by(EventRow.id)).all()] == payloads
        assert s.exec(select(ChangeRow).where(ChangeRow.kind != "imported")).all() == []
        assert verify(s) == []


LIVE = {"format": "casecheck/1", "case_id": "LIVE-1", "agency": {"code": "nkcgw", "name": "南开区城市管理委员会"},
        "procedure": "ordinary", "matter": {"code": "SR-0101", "name": "超出门窗外墙经营"},
        "party": {"kind": "person", "name": "刘某", "id": "120104198001010001"},
        "violation": {"occurred_on": "2024-03-01"},
        "officers": [{"id": "O1", "name": "王某", "certificate": "津执1", "certificate_valid_until": "2026-06-30"},
                     {"id": "O2", "name": "赵某", "certificate": "津执2", "certificate_valid_until": "2026-06-30"},
                     {"id": "R1", "name": "孙某", "certificate": "津执3", "certificate_valid_until": "2026-06-30",
                      "legal_qualification": True}],
        "events": [{"type": "discovered", "date": "2024-03-01"},
                   {"type": "registered", "date": "2024-03-04", "officers": ["O1", "O2"], "documents": ["立案审批表"]},
                   {"type": "inspected", "date": "2024-03-04", "officers": ["O1", "O2"], "certificates_shown": True,
                    "recording": "AV-1", "documents": ["现场检查笔录"]},
                   {"type": "notified", "date": "2024-03-08", "officers": ["O1", "O2"],
                    "proposed": {"kind": "fine", "amount": "2000"}, "documents": ["行政处罚事先告知书"]},
                   {"type": "rights_waived", "date": "2024-03-11"}]}
DECISION = {"type": "decided", "date": "2024-03-13", "officers": ["O1", "O2"], "outcome": "penalty",
            "penalty": {"kind": "fine", "amount": "2000"}, "document": "津南城管罚决〔2024〕1号"}


def test_decision_without_legal_review_is_refused_and_not_stored(url):
    from engine.cases import new_case

    store = Store.open(url)
    new_case(store, LIVE, actor="王某")
    before = counts(store)
    with pytest.raises(StepRefused) as refused:
        record(store, "LIVE-1", dict(DECISION), actor="王某")
    assert [f.rule_id for f in refused.value.findings] == ["legal_review.required_before_decision"]
    assert "第五十八条" in refused.value.findings[0].basis
    assert counts(store) == before
    record(store, "LIVE-1", {"type": "legal_review", "date": "2024-03-12", "reviewer": "R1", "result": "approved",
                             "documents": ["法制审核意见书"]}, actor="孙某")
    done = record(store, "LIVE-1", dict(DECISION), actor="王某")
    assert done.seq == 7 and done.state == "decided"
    with store.reading() as s:
        assert verify(s) == []
        events = s.exec(select(EventRow).order_by(EventRow.seq)).all()
        assert [e.recorded_by for e in events][-2:] == ["R1", "O1"]        # the officers, by id


@pytest.mark.parametrize("prior_stored", [True, False])
def test_the_live_look_back_reads_the_partys_other_stored_cases(url, prior_stored):
    """首违不罚 claimed for a second offence within a year: the recorded decision's findings name the
    earlier case of the same party and matter when it is in the store, and say nothing without it."""
    import yaml

    from engine.cases import new_case

    cases = {c["case_id"]: c 
             for c in yaml.safe_load((RULES / "first_offence-without_basis.yaml").read_text("utf-8"))["cases"]}
    store = Store.open(url)
    if prior_stored:
        new_case(store, cases["FO-WB-参照-1a 前次处罚"], actor="seed")
    second = dict(cases["FO-WB-违反-1 一年内第二次仍首违不罚"])
    cut = next(i for i, e in enumerate(second["events"]) if e["type"] == "decided")
    decision = second["events"][cut]
    new_case(store, {**second, "events": second["events"][:cut]}, actor="seed")
    done = record(store, second["case_id"], dict(decision), actor="O1", as_of=dt.date(2024, 3, 13))
    found = [f for f in done.findings if f.rule_id == "first_offence.without_basis"]
    if prior_stored:
        assert len(found) == 1 and "FO-WB-参照-1a" in found[0].message
    else:
        assert found == []


def test_a_step_out_of_order_is_refused(url):
    from engine.cases import new_case

    store = Store.open(url)
    new_case(store, LIVE, actor="王某")
    with pytest.raises(StepRefused) as refused:
        record(store, "LIVE-1", {"type": "paid", "date": "2024-03-20", "amount": "2000"}, actor="王某")
    assert [f.rule_id for f in refused.value.findings] == ["workflow.illegal_step"]


@pytest.mark.parametrize("tamper, fragment", [
    ("UPDATE events SET payload = REPLACE(payload, '\"2024-', '\"2023-') WHERE seq = 3", "#3"),
    ("DELETE FROM events WHERE seq = 2", "#2"),
    ("UPDATE events SET seq = 1000 WHERE seq = 2; UPDATE events SET seq = 2 WHERE seq = 3; "
     "UPDATE events SET seq = 3 WHERE seq = 1000", "#2"),
    ("DELETE FROM events WHERE seq = (SELECT MAX(seq) FROM events)", "events removed or added"),
    ("UPDATE cases SET header = REPLACE(header, '刘某', '李某')", "header"),
    ("UPDATE events SET recorded_by = 'R1' WHERE seq = 2", "#2"),        # who recorded it, rewritten
])
def test_verify_names_the_case_and_event_changed_behind_its_back(url, tamper, fragment):
    from engine.cases import new_case

    store = Store.open(url)
    new_case(store, LIVE, actor="王某")
    with store.engine.begin() as conn:                       # behind the engine's back: plain SQL
        for statement in tamper.split("; "):
            conn.execute(text(statement))
    with store.reading() as s:
        broken = verify(s)
    assert len(broken) == 1 and broken[0].case_id == "LIVE-1"
    assert fragment in (f"#{broken[0].seq} " if broken[0].seq else "") + broken[0].problem


def _import_worker(url: str, path: str, out) -> None:
    report = import_paths(Store.open(url), [path], actor="p")
    out.put((report.new, report.unchanged, len(report.problems)))


def test_two_processes_importing_into_postgresql_lose_and_double_nothing():
    url = pg.create_database()
    try:
        Store.open(url)                                          # schema once, as a deployment would
        ctx = multiprocessing.get_context("spawn")
        out = ctx.Queue()
        procs = [ctx.Process(target=_import_worker, args=(url, str(p), out)) for p in (DEMO, DEMO, RULES)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        results = [out.get(timeout=5) for _ in procs]
        assert all(p.exitcode == 0 for p in procs)
        demo = [r for r in results if r[0] + r[1] == 41]
        assert sorted(r[0] for r in demo) == [0, 41]            # one imported them, the other found them
        store = Store.open(url)
        with store.reading() as s:
            n_cases = s.exec(select(func.count()).select_from(CaseRow)).one()
            dupes = s.exec(select(CaseRow.agency, CaseRow.case_id, func.count()).group_by(
                CaseRow.agency, CaseRow.case_id).having(func.count() > 1)).all()
            assert verify(s) == []
        from engine.loader import load_paths

        assert dupes == [] and n_cases == 41 + len(load_paths([RULES]).cases)
    finally:
        pg.drop_database(url)


def run(*args, env_db=None):
    exe = shutil.which("casecheck") or str(ROOT / ".venv" / "bin" / "casecheck")
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)


def test_cli_import_record_verify_and_diagrams(tmp_path):
    db = str(tmp_path / "cli.db")
    bad = tmp_path / "bad"
    shutil.copytree(DEMO / "xuefu", bad)
    (bad / "zz.json").write_text('{"case_id": "B", "agency": {"code": "a", "name": "b"}, "procedure": "x"}')
    failed = run("import", str(bad), "--db", db)
    assert failed.returncode == 2 and "zz.json" in failed.stderr and "nothing was imported" in failed.stderr
    ok = run("import", str(DEMO), "--db", db)
    assert ok.returncode == 0 and "41 new" in ok.stdout
    case_id = "津南学罚〔2024〕1号"
    shown = run("case", "show", case_id, "--db", db, "--diagram", "--format", "mermaid")
    assert shown.returncode == 0 and "stateDiagram-v2" in shown.stdout and "visited" in shown.stdout
    stranger = run("case", "record", case_id, "decided", "--date", "2024-12-20", "--db", db, "--by", "某人",
                   "--set", "outcome=penalty", "--set", "penalty.kind=warning")
    assert stranger.returncode == 1 and "不是本案执法人员" in stranger.stderr and "O1 周某甲" in stranger.stderr
    refused = run("case", "record", case_id, "decided", "--date", "2024-12-20", "--db", db, "--by", "O1",
                  "--set", "outcome=penalty", "--set", "penalty.kind=warning")
    assert refused.returncode == 1 and "refused" in refused.stderr and "workflow.illegal_step" in refused.stderr
    assert run("verify", "--db", db).returncode == 0
    store = Store.open(db)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE events SET recorded_by = '某人' WHERE seq = 4 AND case_pk = "
                          "(SELECT id FROM cases WHERE case_id = :c)"), {"c": case_id})
    tampered = run("verify", "--db", db)
    assert tampered.returncode == 1 and case_id in tampered.stdout and "#4" in tampered.stdout
    table = run("workflow", "show", "ordinary")
    mer = run("workflow", "show", "ordinary", "--format", "mermaid")
    assert table.returncode == 0 and "closing.outcome_executed" in table.stdout and "作出决定" in table.stdout
    assert "stateDiagram-v2" in mer.stdout and "[*] --> new" in mer.stdout
    stored = run("check", "--db", db, "--as-of", "2024-12-31", "--format", "json")
    assert stored.returncode == 1 and '"cases": 41' in stored.stdout
    from engine.store.tables import FindingRow, RunRow
    with store.reading() as s:                                # the run and its findings are kept
        run_row = s.exec(select(RunRow)).one()
        kept = s.exec(select(func.count()).select_from(FindingRow).where(FindingRow.run_id == run_row.id)).one()
    assert run_row.as_of.isoformat() == "2024-12-31" and kept == stored.stdout.count('"rule_id"')


def test_a_store_at_revision_0010_is_upgraded_on_open_and_keeps_its_events(url):
    """Revision 0011 drops the events' index on case_pk alone (uq_events_case_seq covers it): a store left at
    0010 is upgraded when opened, its events and chains as they were; a downgrade puts the index back."""
    from alembic import command
    from alembic.config import Config
    from importlib import resources
    from sqlalchemy import inspect

    store = Store.open(url)
    import_paths(store, [DEMO / "xuefu"], actor="t")
    before = counts(store)

    def index_names() -> set[str]:
        with store.engine.connect() as conn:
            return {i["name"] for i in inspect(conn).get_indexes("events")}

    def to(revision: str) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(resources.files("engine.store").joinpath("migrations")))
        with store.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, revision)

    assert "ix_events_case_pk" not in index_names()
    to("0010")
    assert "ix_events_case_pk" in index_names()
    store.close()
    store = Store.open(url)
    assert "ix_events_case_pk" not in index_names() and counts(store) == before
    with store.reading() as s:
        assert verify(s) == []
        assert s.exec(select(text("version_num")).select_from(text("alembic_version"))).one() == "0013"
