"""The case list's query paths (issue 21, a million cases): every filter, keyset pages forwards and
backwards, page-number jumps, the last page and the capped count return exactly the cases, in exactly the
order, of a naive filter over all rows in Python — on SQLite and on PostgreSQL. "Has findings" follows
each case's last check on its current state. Revision 0009 upgrades a store kept at 0007 and back-fills
the per-case checks from the latest whole-store check run."""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from engine.cases import import_paths
from engine.store import Store
from engine.store.case_checks import CaseCheckRow
from engine.store.tables import CaseRow, EventRow, OfficerRow
from engine.users import User
from engine.web import caselist
from engine.web.caselist import Cursor
from engine.web.service import CaseFilter, case_list

N = 160
LIMIT = 7


def _cases(n: int) -> list[dict]:
    """Generated cases over 2022–2025 in two agencies, each with two of six officers of its agency."""
    from fixtures.casegen import CaseGen
    from fixtures.scale import MIXES

    gen, rng = CaseGen(seed=5), random.Random(5)
    out = []
    for i in range(n):
        raw, _ = gen.random_case(i + 1, 2022 + i % 4, mix=MIXES["penalties"])
        raw.pop("_basis", None)
        raw["case_id"] = f"T{i:04d}-" + raw["case_id"]
        a, b = rng.sample(range(1, 7), 2)
        agency = raw["agency"]["code"]
        text_ = json.dumps(raw, ensure_ascii=False).replace('"O1"', f'"{agency}.{a}"').replace('"O2"', f'"{agency}.{b}"')
        out.append(json.loads(text_))
    return out


def _check(url: str, tmp: Path) -> None:
    from typer.testing import CliRunner

    from engine.cli import app

    result = CliRunner().invoke(app, ["check", "--db", url, "--format", "json", "--output", str(tmp / "check.json")])
    assert result.exit_code in (0, 1), result.output


def _build(url: str, tmp: Path) -> Store:
    (tmp / "cases.json").write_text(json.dumps({"format": "casecheck/1", "cases": _cases(N)}, ensure_ascii=False),
                                    encoding="utf-8")
    store = Store.open(url)
    store.url = url
    report = import_paths(store, [tmp / "cases.json"], actor="t")
    assert report.new == N and not report.problems
    _check(url, tmp)
    return store


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp(f"caselist-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'store.db'}"
        yield _build(url, tmp)
        return
    import pg

    url = pg.create_database()
    s = _build(url, tmp)
    yield s
    s.close()
    pg.drop_database(url)


def _user(*agencies: str, officer: str | None = None) -> User:
    return User(1, "u", "u", frozenset({"officer"}), frozenset(agencies), officer)


def _naive(store: Store, user: User, flt: CaseFilter) -> list[int]:
    """The filter, as plainly as it can be said, over every row in Python: newest first."""
    with store.reading() as s:
        cases = s.exec(select(CaseRow)).all()
        officers: dict[int, set[str]] = {}
        for pk, oid in s.exec(select(OfficerRow.case_pk, OfficerRow.officer_id)):
            officers.setdefault(pk, set()).add(oid)
        dates: dict[int, list[dt.date]] = {}
        for pk, day in s.exec(select(EventRow.case_pk, EventRow.date)):
            dates.setdefault(pk, []).append(day)
        checks = {c.case_pk: c for c in s.exec(select(CaseCheckRow)).all()}
    out = []
    for c in cases:
        if c.agency not in user.agencies or (flt.agency and c.agency != flt.agency):
            continue
        if (flt.procedure and c.procedure != flt.procedure) or (flt.state and c.state != flt.state) \
                or (flt.matter and c.matter_code != flt.matter) or (flt.q and not c.case_id.startswith(flt.q)):
            continue
        if flt.officer and flt.officer not in officers.get(c.id, ()):
            continue
        if flt.date_from or flt.date_to:
            lo, hi = flt.date_from or dt.date.min, flt.date_to or dt.date.max
            if not any(lo <= d <= hi for d in dates.get(c.id, ())):
                continue
        if flt.findings:
            check = checks.get(c.id)
            if check is None or check.findings == 0 or check.checked_at < c.updated_at:
                continue
        out.append(c.id)
    return sorted(out, reverse=True)


def _walk_forward(store: Store, user: User, flt: CaseFilter) -> list[int]:
    seen, page = [], case_list(store, user, flt, limit=LIMIT)
    numbers = [page.number]
    for _ in range(N):
        seen += [i.pk for i in page.items]
        if page.next_after is None:
            break
        page = case_list(store, user, flt, limit=LIMIT, cursor=Cursor(after=page.next_after, number=page.number + 1))
        numbers.append(page.number)
    assert numbers == list(range(1, len(numbers) + 1))
    return seen


def _walk_backward(store: Store, user: User, flt: CaseFilter) -> list[int]:
    page = case_list(store, user, flt, limit=LIMIT, cursor=Cursor(last=True, number=None))
    assert page.next_after is None
    seen: list[int] = []
    for _ in range(N):
        seen = [i.pk for i in page.items] + seen
        if page.prev_before is None:
            assert page.first
            break
        page = case_list(store, user, flt, limit=LIMIT, cursor=Cursor(before=page.prev_before, number=None))
    return seen


def _filters(store: Store) -> list[CaseFilter]:
    with store.reading() as s:
        states = sorted(set(s.exec(select(CaseRow.state).distinct())))
        matters = sorted({m for m in s.exec(select(CaseRow.matter_code).distinct()) if m})
    return [CaseFilter(), CaseFilter(agency="xuefu"), CaseFilter(agency="nkcgw"), CaseFilter(procedure="ordinary"),
            CaseFilter(procedure="inspection", agency="nkcgw"), CaseFilter(state=states[0]),
            CaseFilter(state=states[-1], procedure="simple"), CaseFilter(matter=matters[0]),
            CaseFilter(officer="xuefu.3"), CaseFilter(officer="nkcgw.1", state=states[0]),
            CaseFilter(date_from=dt.date(2023, 3, 1), date_to=dt.date(2023, 5, 31)),
            CaseFilter(date_from=dt.date(2025, 1, 1)), CaseFilter(date_to=dt.date(2022, 6, 30), agency="xuefu"),
            CaseFilter(findings=True), CaseFilter(findings=True, procedure="ordinary", officer="xuefu.2"),
            CaseFilter(q="T00"), CaseFilter(q="T01", findings=True),
            CaseFilter(agency="nkcgw", date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 12, 31), findings=True)]


SCOPES = [("xuefu",), ("nkcgw",), ("xuefu", "nkcgw")]


@pytest.mark.parametrize("scope", SCOPES, ids=["+".join(s) for s in SCOPES])
def test_filters_and_pages_match_a_naive_query(store, scope):
    user = _user(*scope)
    for flt in _filters(store):
        expected = _naive(store, user, flt)
        if flt.agency and flt.agency not in scope:
            assert expected == []                      # another agency's filter shows nothing of it
        first = case_list(store, user, flt, limit=LIMIT)
        assert first.total.exact and first.total.value == len(expected), flt
        assert first.pages == max(1, -(-len(expected) // LIMIT))
        assert _walk_forward(store, user, flt) == expected, flt
        assert _walk_backward(store, user, flt) == expected, flt
        for number in (1, 2, 3, first.pages):
            page = case_list(store, user, flt, limit=LIMIT, cursor=Cursor(page=number, number=number))
            assert [i.pk for i in page.items] == expected[(number - 1) * LIMIT:number * LIMIT], (flt, number)
        last = case_list(store, user, flt, limit=LIMIT, cursor=Cursor(last=True, number=None))
        assert last.number == first.pages
        assert [i.pk for i in last.items] == expected[(first.pages - 1) * LIMIT:], flt


def test_the_count_stops_at_its_cap(store, monkeypatch):
    monkeypatch.setattr(caselist, "COUNT_CAP", 20)
    user = _user("xuefu", "nkcgw")
    expected = _naive(store, user, CaseFilter())
    page = case_list(store, user, CaseFilter(), limit=LIMIT)
    assert (page.total.value, page.total.exact, str(page.total), page.pages) == (20, False, "20+", None)
    last = case_list(store, user, CaseFilter(), limit=LIMIT, cursor=Cursor(last=True, number=None))
    assert last.number is None and [i.pk for i in last.items] == expected[-LIMIT:]
    small = CaseFilter(agency="xuefu", procedure="simple")
    assert case_list(store, user, small, limit=LIMIT).total.exact == (len(_naive(store, user, small)) <= 20)
    # a filter that looks into each case's rows: only the 30 newest candidates are looked into
    monkeypatch.setattr(caselist, "SCAN_CAP", 30)
    for flt in (CaseFilter(findings=True), CaseFilter(officer="xuefu.2"), CaseFilter(date_from=dt.date(2024, 1, 1)),
                CaseFilter(agency="nkcgw", procedure="ordinary", findings=True)):
        candidates = _naive(store, user, CaseFilter(agency=flt.agency, procedure=flt.procedure))
        found = set(_naive(store, user, flt))
        total = case_list(store, user, flt, limit=LIMIT).total
        assert total.exact == (len(candidates) < 30), flt
        assert total.value == len(found & set(candidates[:30])), flt
        assert str(total) == f"{total.value:,}" + ("" if total.exact else "+")


def test_has_findings_follows_the_cases_current_state(store, tmp_path):
    user = _user("xuefu", "nkcgw")
    flagged = _naive(store, user, CaseFilter(findings=True))
    assert flagged and len(flagged) < N                       # the generator's faults: some cases, not all
    with store.reading() as s:
        run = s.exec(text("SELECT max(id) FROM runs WHERE kind = 'check'")).one()[0]
        from engine.store.case_checks import recount

        counts = recount(s, run)
        rows = {c.case_pk: c.findings for c in s.exec(select(CaseCheckRow)).all()}
    assert len(rows) == N and {pk for pk, n in rows.items() if n} == set(counts)
    assert all(rows[pk] == n for pk, n in counts.items())
    changed = flagged[0]
    with store.reading() as s:
        checked = s.get(CaseCheckRow, changed).checked_at
    moved = checked + dt.timedelta(seconds=1)
    with store.writing() as s:                                # what every import and recorded step does
        s.exec(update(CaseRow).where(CaseRow.id == changed).values(updated_at=moved))
    for _ in range(30):                                       # the next check is kept after that change
        if dt.datetime.now(dt.timezone.utc) > moved + dt.timedelta(seconds=1):
            break
        time.sleep(0.1)
    after = [i.pk for i in case_list(store, user, CaseFilter(findings=True), limit=N).items]
    assert after == [pk for pk in flagged if pk != changed]
    _check(store.url, tmp_path)                               # checked again: listed again
    assert [i.pk for i in case_list(store, user, CaseFilter(findings=True), limit=N).items] == flagged


def test_page_links_in_the_web_list(tmp_path):
    """The list page's links: next carries the keyset and the page number; a page beyond the jump limit
    or not a number is refused with the fix; scope holds whatever the filter asks."""
    from webkit import client, demo_store

    from engine.web.app import create_app

    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo_store(url)
    c = client(create_app(url), "zhou")
    page = c.get("/cases")
    assert page.status_code == 200 and "共" in page.text
    assert c.get("/cases?page=last").status_code == 200
    assert c.get("/cases?page=2").status_code == 200
    assert c.get(f"/cases?page={caselist.MAX_JUMP + 1}").status_code == 400
    assert c.get("/cases?page=x").status_code == 400
    assert "津南城管" not in c.get("/cases?agency=nkcgw").text.split("<table", 1)[-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    import pg

    url = pg.create_database()
    yield url
    pg.drop_database(url)


def test_revision_0009_upgrades_a_store_at_0007(empty_url, tmp_path, monkeypatch):
    from importlib import resources

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, inspect

    url = empty_url
    (tmp_path / "cases.json").write_text(json.dumps({"format": "casecheck/1", "cases": _cases(40)},
                                                    ensure_ascii=False), encoding="utf-8")
    head = Store.open(url)             # imported by today's code (which writes today's columns), then taken
    assert import_paths(head, [tmp_path / "cases.json"], actor="t").new == 40      # back to 0007
    head.close()
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("engine.store").joinpath("migrations")))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0007")
    engine.dispose()
    old = Store.open(url, migrate=False)
    with monkeypatch.context() as m:                      # a check kept before 0009: runs and findings only
        from engine.store import case_checks

        m.setattr(case_checks, "note_check_run", lambda *a, **k: 0)
        m.setattr(Store, "migrate", lambda self: None)
        _check(url, tmp_path)
    with old.reading() as s:
        with_findings = {pk for (pk,) in s.exec(text("SELECT DISTINCT case_pk FROM findings"))}
        assert s.exec(text("SELECT version_num FROM alembic_version")).one()[0] == "0007"
    old.close()
    store = Store.open(url)                               # upgrades to the head
    with store.reading() as s:
        rows = {c.case_pk: c.findings for c in s.exec(select(CaseCheckRow)).all()}
    found = inspect(store.engine)
    names = {ix["name"] for table in ("cases", "officers", "events") for ix in found.get_indexes(table)}
    assert len(rows) == 40 and {pk for pk, n in rows.items() if n} == with_findings
    assert {"ix_cases_agency_procedure_id", "ix_cases_agency_matter_id", "ix_cases_agency_id_updated",
            "ix_cases_id_agency", "ix_officers_officer_case", "ix_events_date_case", "ix_events_case_date"} <= names
    window = any(ix["name"] == "ix_deadlines_window" for ix in found.get_indexes("deadlines"))
    assert window == (store.engine.dialect.name == "postgresql")      # SQLite plans alerts on ix_deadlines_open_due
    listed = case_list(store, _user("xuefu", "nkcgw"), CaseFilter(findings=True), limit=100).items
    assert {i.pk for i in listed} == with_findings
    store.close()


@pytest.mark.parametrize("scope", SCOPES, ids=["+".join(s) for s in SCOPES])
def test_dashboard_figures_match_a_naive_count(store, scope):
    from engine.calendar import default_calendar
    from engine.alerts import window_end
    from engine.store.tables import DeadlineRow
    from engine.web.caselist import agency_figures

    user = _user(*scope)
    with store.reading() as s:
        cases = {c.id: c.agency for c in s.exec(select(CaseRow)).all()}
        deadlines = s.exec(select(DeadlineRow)).all()
        run_days = [dt.date(2023, 6, 15), dt.date(2024, 11, 20), dt.date(2025, 12, 1)]
        seen = 0
        for day in run_days:
            soon = window_end(default_calendar(), day, 5)
            got = agency_figures(s, user, day, soon)
            for agency in scope:
                open_ = [d for d in deadlines if cases[d.case_pk] == agency and d.start <= day < d.open_until]
                assert got[agency]["red"] == sum(1 for d in open_ if d.due < day), (agency, day)
                assert got[agency]["yellow"] == sum(1 for d in open_ if day <= d.due <= soon), (agency, day)
                seen += got[agency]["red"] + got[agency]["yellow"]
                assert str(got[agency]["cases"]) == f"{sum(1 for a in cases.values() if a == agency):,}"
            assert set(got) == set(scope)
        assert seen                                   # the days chosen do have open deadlines
