"""Helpers of the web tests: a demo store, a logged-in test client, a real ``casecheck serve`` process."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "casecheck-demo"


def demo_store(url: str) -> None:
    from engine.web.demo import build

    build(url, ROOT / "fixtures" / "demo")


def case_pk(url: str, case_id_prefix: str, agency: str | None = None) -> int:
    from sqlmodel import select

    from engine.store import Store
    from engine.store.tables import CaseRow

    store = Store.open(url, migrate=False)
    with store.reading() as session:
        query = select(CaseRow.id).where(CaseRow.case_id.startswith(case_id_prefix))
        if agency:
            query = query.where(CaseRow.agency == agency)
        pk = session.exec(query.order_by(CaseRow.id)).first()
    store.close()
    assert pk is not None, case_id_prefix
    return pk


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def client(app: Any, login: str | None = None, password: str = PASSWORD) -> Any:
    from fastapi.testclient import TestClient

    c = TestClient(app, follow_redirects=False)
    if login:
        page = c.get("/login")
        r = c.post("/login", data={"login": login, "password": password, "csrf": csrf_of(page.text), "next": "/"})
        assert r.status_code == 303, (login, r.status_code, r.text[:500])
    return c


def form_csrf(c: Any, path: str = "/feed") -> str:
    return csrf_of(c.get(path).text)


def form_values(html: str) -> dict[str, str]:
    """What a browser posts from the page's (first) form, untouched: each input's value (a checkbox only
    when checked), each textarea's text, each select's selected option (else its first)."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.values: dict[str, str] = {}
            self.select: str | None = None
            self.first: str | None = None
            self.textarea: str | None = None

        def handle_starttag(self, tag: str, attrs: list) -> None:
            a = dict(attrs)
            if tag == "input" and a.get("name") and (a.get("type") != "checkbox" or "checked" in a):
                self.values[a["name"]] = a.get("value") or ""
            elif tag == "textarea":
                self.textarea = a.get("name")
                self.values[self.textarea] = ""
            elif tag == "select":
                self.select, self.first = a.get("name"), None
            elif tag == "option" and self.select:
                if self.first is None:
                    self.first = a.get("value") or ""
                    self.values.setdefault(self.select, self.first)
                if "selected" in a:
                    self.values[self.select] = a.get("value") or ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "select":
                self.select = None
            elif tag == "textarea":
                self.textarea = None

        def handle_data(self, data: str) -> None:
            if self.textarea:
                self.values[self.textarea] += data

    parser = Form()
    parser.feed(html[html.index("<form method=\"post\""):] if '<form method="post"' in html else html)
    return parser.values


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``casecheck serve`` as a real process on 127.0.0.1 (a free port); stopped by ``stop()``."""

    def __init__(self, url: str, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._log = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "engine.cli", "serve", "--db", url, "--host", "127.0.0.1",
                                      "--port", str(self.port)], cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "PYTHONPATH": str(ROOT)}, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("serve did not start within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()
