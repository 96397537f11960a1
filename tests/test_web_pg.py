"""Two ``casecheck serve`` processes on one PostgreSQL store behave as one: a login made through one is
good on the other, a step recorded through one is seen by the other, and a form read before that step
is refused on the other (the event count it carried is stale)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from webkit import PASSWORD, Server, case_pk, csrf_of, demo_store

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")


@pytest.fixture(scope="module")
def pg_url():
    import pg

    url = pg.create_database()                      # PostgreSQL tests run, never skip (tests/pg.py starts it)
    yield url
    pg.drop_database(url)


def _login(base: str, user: str) -> "httpx.Client":
    c = httpx.Client(base_url=base, follow_redirects=False, timeout=60)
    page = c.get("/login")
    r = c.post("/login", data={"login": user, "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/"})
    assert r.status_code == 303, r.text[:300]
    return c


def test_two_serve_processes_on_one_postgresql_store(pg_url, tmp_path):
    demo_store(pg_url)
    pk = case_pk(pg_url, "津南学罚〔2026〕901", "xuefu")
    a = Server(pg_url, tmp_path / "a.log")
    b = Server(pg_url, tmp_path / "b.log")
    try:
        officer_b = _login(b.base, "zhou")
        stale = officer_b.get(f"/cases/{pk}/record?type=decided").text
        seen = int(re.search(r'name="expect" value="(\d+)"', stale).group(1))

        reviewer_a = _login(a.base, "lin")
        form = reviewer_a.get(f"/cases/{pk}/record?type=legal_review").text
        r = reviewer_a.post(f"/cases/{pk}/record", data={
            "csrf": csrf_of(form), "type": "legal_review", "expect": str(seen), "date": dt.date.today().isoformat(),
            "reviewer": "R1", "result": "approved", "documents": "法制审核意见书"})
        assert r.status_code == 303, r.text[:2000]

        page = officer_b.get(f"/cases/{pk}").text                      # seen through the other process
        assert "法制审核" in page.split("执法环节", 1)[1] and ">R1<" in page

        same_session = httpx.Client(base_url=b.base, follow_redirects=False, timeout=60,
                                    cookies={"cc_session": reviewer_a.cookies["cc_session"]})
        assert same_session.get("/").status_code == 200                # A's login is good on B

        r = officer_b.post(f"/cases/{pk}/record", data={
            "csrf": csrf_of(stale), "type": "decided", "expect": str(seen), "date": dt.date.today().isoformat(),
            "officers": ["O1", "O2"], "outcome": "penalty", "penalty.kind": "fine", "penalty.amount": "500"})
        assert r.status_code == 409 and "已被他人更新" in r.text          # B's stale form does not overwrite

        reviewer_a.post("/logout", data={"csrf": csrf_of(reviewer_a.get("/feed").text)})
        assert same_session.get("/").status_code == 303                # logged out on A: gone on B too
        for c in (officer_b, reviewer_a, same_session):
            c.close()
    finally:
        a.stop()
        b.stop()
