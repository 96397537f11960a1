"""Every route × every role: the table below is the access policy, written out; the app must have exactly
these routes, each must let in exactly these roles (403 for the others, a login for nobody), and every
route that names a case answers 404 for a case of another agency, whichever role asks."""

from __future__ import annotations

import pytest

from webkit import case_pk, client, csrf_of, demo_store

pytest.importorskip("fastapi")

ROLES = ("officer", "legal_reviewer", "head", "case_reviewer", "supervisor", "admin")
EVERYONE = set(ROLES)
PUBLIC = None                         # no login (the login itself, the language switch, the token-held feed)

ACCESS = {
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/lang/{code}"): PUBLIC,
    ("GET", "/ics/{token}.ics"): PUBLIC,
    ("POST", "/logout"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("GET", "/cases"): EVERYONE,
    ("GET", "/cases/{pk}"): EVERYONE,
    ("GET", "/cases/{pk}/record"): {"officer", "legal_reviewer", "head"},
    ("POST", "/cases/{pk}/record"): {"officer", "legal_reviewer", "head"},
    ("GET", "/cases/{pk}/correct/{seq}"): {"officer", "legal_reviewer", "head"},
    ("POST", "/cases/{pk}/correct/{seq}"): {"officer", "legal_reviewer", "head"},
    ("GET", "/cases/{pk}/correct-header"): {"officer", "legal_reviewer", "head"},
    ("POST", "/cases/{pk}/correct-header"): {"officer", "legal_reviewer", "head"},
    ("GET", "/import"): {"officer", "head", "admin"},
    ("POST", "/import"): {"officer", "head", "admin"},
    ("GET", "/review"): {"head", "case_reviewer", "supervisor"},
    ("POST", "/review"): {"head", "case_reviewer", "supervisor"},
    ("GET", "/review/download"): {"head", "case_reviewer", "supervisor"},
    ("POST", "/review/adjust"): {"case_reviewer", "supervisor"},
    ("GET", "/alerts"): {"officer", "legal_reviewer", "head", "case_reviewer", "supervisor"},
    ("GET", "/stats"): {"head", "case_reviewer", "supervisor", "admin"},
    ("GET", "/rules"): EVERYONE,
    ("GET", "/feed"): EVERYONE,
    ("POST", "/feed/new"): EVERYONE,
    ("POST", "/feed/revoke"): EVERYONE,
    ("GET", "/supervision"): {"supervisor", "head", "officer"},
    ("GET", "/supervision/new"): {"supervisor"},
    ("POST", "/supervision/new"): {"supervisor"},
    ("GET", "/supervision/{nid}"): {"supervisor", "head", "officer"},
    ("GET", "/supervision/{nid}/docx"): {"supervisor", "head", "officer"},
    ("POST", "/supervision/{nid}/reply"): {"head", "officer"},
    ("POST", "/supervision/{nid}/close"): {"supervisor"},
    ("GET", "/admin/users"): {"admin"},
    ("POST", "/admin/users"): {"admin"},
    ("POST", "/admin/users/{login}/disable"): {"admin"},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from engine.store import Store
    from engine.users import add_user
    from engine.web.app import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('routes') / 'store.db'}"
    demo_store(url)
    store = Store.open(url, migrate=False)
    for role in ROLES:
        add_user(store, f"r_{role}", role, "route-pass-1", roles=[role], agencies=["xuefu"], officer_id="O1",
                 certificate="津执07718")           # the open demo cases' O1 (周某甲): a person, not a code
    app = create_app(url)
    own = case_pk(url, "津南学罚〔2026〕902", "xuefu")
    other = case_pk(url, "津南城管", "nkcgw")
    NOTICES.update(_notices(store))
    return app, own, other


NOTICES: dict[str, int] = {}          # a supervision notice to the users' agency and one to another agency


def _notices(store) -> dict[str, int]:
    import datetime as dt

    from engine.supervision import issue

    made = {}
    for key, agency in (("own", "xuefu"), ("other", "nkcgw")):
        made[key] = issue(store, agency=agency, kind="notice", case_ids=[], rule_ids=[], problem="p", basis="b",
                          requirement="r", deadline=dt.date(2026, 12, 31), by="s", proof="asserted",
                          issued_on=dt.date(2026, 11, 1)).pk
    return made


def _walk(routes, prefix: str = ""):
    """(route, full path) of every endpoint: FastAPI flattens included routers in some versions and keeps
    them as nodes (``original_router``) in others."""
    for route in routes:
        if hasattr(route, "original_router"):
            inner = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            yield from _walk(route.original_router.routes, prefix + inner)
        elif getattr(route, "methods", None):
            yield route, prefix + route.path


def _web_routes(app):
    """The workspace's pages and forms; ``/api/v1`` has its own policy (tokens, read/write; tests/test_api.py)
    and is checked for sessions below."""
    return [(route, path) for route, path in _walk(app.routes) if not path.startswith("/api/")]


def _app_routes(app) -> set[tuple[str, str]]:
    return {(method, path) for route, path in _web_routes(app) for method in route.methods if method != "HEAD"}


def test_the_table_lists_every_route_of_the_app(world):
    app, _, _ = world
    assert _app_routes(app) == set(ACCESS), "a route was added or removed: write its roles into ACCESS"


def test_every_routes_declared_roles_match_the_table(world):
    app, _, _ = world
    for route, path in _web_routes(app):
        declared = {role for dep in route.dependant.dependencies for role in getattr(dep.call, "roles", ())}
        for method in route.methods - {"HEAD"}:
            wanted = ACCESS[(method, path)]
            if wanted is PUBLIC:
                assert not declared, path
            elif wanted is not EVERYONE or declared:
                assert declared == wanted, (method, path, declared)


def _request(c, method: str, path: str, pk: int, csrf: str, nid: int | None = None):
    concrete = (path.replace("{pk}", str(pk)).replace("{seq}", "1").replace("{code}", "en").replace("{token}", "nope")
                .replace("{login}", "nobody").replace("{nid}", str(nid if nid is not None else NOTICES.get("own", 0))))
    query = {"/cases/{pk}/record": "?type=closed", "/review/download": "?quarter=2024Q2&format=json",
             "/stats": "?year=2024", "/alerts": "?as_of=2024-06-30"}.get(path, "") if method == "GET" else ""
    if method == "GET":
        return c.get(concrete + query)
    data = {"csrf": csrf, "type": "closed", "expect": "0", "date": "2026-11-30", "quarter": "2024Q2",
            "login": "x y", "password": "short", "case_id": "nope", "rule_id": "nope", "kind": "adjust", "value": "1", "reason": "r", "text": "t"}
    files = [("files", ("bad.json", b"{}", "application/json"))] if path == "/import" else None
    return c.post(concrete, data=data, files=files)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_its_routes(world, role):
    app, own, _ = world
    c = client(app, f"r_{role}", "route-pass-1")
    csrf = csrf_of(c.get("/feed").text)
    for (method, path), allowed in sorted(ACCESS.items(), key=lambda kv: kv[0][1] == "/logout"):
        if allowed is PUBLIC or path == "/login":
            continue
        r = _request(c, method, path, own, csrf)
        if role in allowed:
            assert r.status_code not in (401, 403) and r.status_code < 500, (role, method, path, r.status_code)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)


def test_nobody_logged_in_gets_only_the_public_routes(world):
    app, own, _ = world
    c = client(app)
    for (method, path), allowed in ACCESS.items():
        r = _request(c, method, path, own, "x")
        if allowed is PUBLIC:
            assert r.status_code < 500 and r.status_code != 401, (method, path)
        elif method == "GET":
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)
        else:
            assert r.status_code == 401, (method, path)


@pytest.mark.parametrize("role", ROLES)
def test_a_case_of_another_agency_is_404_on_every_case_route_for_every_role(world, role):
    app, _, other = world
    c = client(app, f"r_{role}", "route-pass-1")
    csrf = csrf_of(c.get("/feed").text)
    for (method, path), allowed in ACCESS.items():
        if "{pk}" not in path or role not in allowed:
            continue
        r = _request(c, method, path, other, csrf)
        assert r.status_code == 404, (role, method, path, r.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_a_supervision_notice_of_another_agency_is_404_on_every_notice_route_for_every_role(world, role):
    app, own, _ = world
    c = client(app, f"r_{role}", "route-pass-1")
    csrf = csrf_of(c.get("/feed").text)
    for (method, path), allowed in ACCESS.items():
        if "{nid}" not in path or role not in allowed:
            continue
        r = _request(c, method, path, own, csrf, nid=NOTICES["other"])
        assert r.status_code == 404, (role, method, path, r.status_code)
    if role in ("supervisor", "head", "officer"):
        listed = c.get("/supervision")
        assert f"/supervision/{NOTICES['own']}" in listed.text and f"/supervision/{NOTICES['other']}" not in listed.text


@pytest.mark.parametrize("role", ROLES)
def test_the_api_with_a_session_sees_only_the_users_agencies(world, role):
    """The logged-in user reaches /api/v1 with their session: their own agency's cases are there, another
    agency's case is 404 (as by page) and its list 403, and a write without the session's CSRF token in
    X-CSRF-Token is refused."""
    from urllib.parse import quote

    from sqlmodel import select

    from engine.store.tables import CaseRow

    app, _, _ = world
    c = client(app, f"r_{role}", "route-pass-1")
    listed = c.get("/api/v1/cases")
    assert listed.status_code == 200, listed.text
    cases = listed.json()["cases"]
    assert cases and {item["agency"] for item in cases} == {"xuefu"}, cases
    own = quote(cases[0]["case_id"], safe="")
    assert c.get(f"/api/v1/cases/{own}").status_code == 200
    assert c.get("/api/v1/cases", params={"agency": "nkcgw"}).status_code == 403
    with app.state.store.reading() as s:
        foreign = s.exec(select(CaseRow.case_id).where(CaseRow.agency == "nkcgw")).first()
    r = c.get(f"/api/v1/cases/{quote(foreign, safe='')}")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json"), r.text
    refused = c.post(f"/api/v1/cases/{own}/events", json={"event": {"type": "closed", "date": "2026-11-30"}})
    assert refused.status_code == 403, refused.text
    token = csrf_of(c.get("/feed").text)
    judged = c.post(f"/api/v1/cases/{own}/events", json={"event": {"type": "closed", "date": "2026-11-30"}},
                    headers={"X-CSRF-Token": token})
    if role in {"officer", "legal_reviewer", "head"}:
        assert judged.status_code in (201, 409, 422), judged.text       # judged by the live guard
        assert judged.json().get("decision_id"), judged.text
    else:
        assert judged.status_code == 403, judged.text
