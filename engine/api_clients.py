"""Platform clients of the HTTP API and their tokens (``casecheck api-client add|list|revoke``).

A token is ``cck_`` + 32 random bytes (URL-safe base64), shown once when the client is created; the store
keeps only its SHA-256 (a random 256-bit secret needs no slow hash: there is nothing to guess). A client
is scoped to one or more agencies and is read-only unless created with write access; it can be revoked
and it expires. ``authenticate`` answers every request: one indexed query, no in-process cache, so a
token revoked through one server process is refused by every other at once.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from sqlmodel import select

from .errors import CasecheckError
from .store import Store
from .store.api_tables import ApiClientRow

__all__ = ["ApiClient", "AuthRefused", "create_client", "list_clients", "revoke_client", "authenticate",
           "TOKEN_PREFIX"]

TOKEN_PREFIX = "cck_"


class AuthRefused(CasecheckError):
    """A token that is unknown, revoked or expired (the message says which, Chinese / English)."""


@dataclass(frozen=True)
class ApiClient:
    name: str
    agencies: tuple[str, ...]
    can_write: bool


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """Stored times are UTC; SQLite hands them back without their zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.timezone.utc)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_client(store: Store, name: str, agencies: list[str], *, write: bool, expires: dt.datetime | None,
                  by: str) -> tuple[ApiClientRow, str]:
    """A new client and its token (returned once; only its hash is stored)."""
    name = name.strip()
    codes = sorted({a.strip() for a in agencies if a.strip()})
    if not name:
        raise CasecheckError("客户端名称不能为空 / the client needs a name")
    if not codes:
        raise CasecheckError("至少指定一个机关（--agency）/ give at least one agency (--agency)")
    expires = utc(expires)
    if expires is not None and expires <= _now():
        raise CasecheckError(f"有效期已过：{expires:%Y-%m-%d %H:%M} / the expiry is in the past")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.writing() as session:
        if session.exec(select(ApiClientRow).where(ApiClientRow.name == name)).first():
            raise CasecheckError(f"客户端“{name}”已存在 / a client named {name!r} exists already")
        row = ApiClientRow(name=name, token_hash=token_hash(token), prefix=token[:10], agencies=json.dumps(codes),
                           can_write=write, created_at=_now(), created_by=by, expires_at=expires)
        session.add(row)
    return row, token


def list_clients(store: Store) -> list[ApiClientRow]:
    with store.reading() as session:
        return list(session.exec(select(ApiClientRow).order_by(ApiClientRow.name)).all())


def revoke_client(store: Store, name: str) -> ApiClientRow:
    with store.writing() as session:
        row = session.exec(select(ApiClientRow).where(ApiClientRow.name == name)).first()
        if row is None:
            raise CasecheckError(f"没有名为“{name}”的客户端 / no client named {name!r}")
        if row.revoked_at is None:
            row.revoked_at = _now()
            session.add(row)
        return row


@functools.cache
def _token_statement() -> Any:
    """Built once; the columns ``authenticate`` reads, as a Core row (no ORM object per request)."""
    from sqlalchemy import bindparam

    table = ApiClientRow.__table__
    return (select(table.c.name, table.c.agencies, table.c.can_write, table.c.revoked_at, table.c.expires_at)
            .where(table.c.token_hash == bindparam("h")))


def authenticate(store: Store, token: str, session: Any = None) -> ApiClient:
    """The client of ``token``; ``AuthRefused`` when it is unknown, revoked or expired. ``session``: read
    through the caller's session (one connection per API request)."""
    from .services import reading

    with reading(store, session) as session:
        row = session.connection().execute(_token_statement(), {"h": token_hash(token)}).first()
    if row is None:
        raise AuthRefused("令牌无效 / unknown token")
    if row.revoked_at is not None:
        raise AuthRefused(f"令牌已于 {row.revoked_at:%Y-%m-%d %H:%M} 撤销 / the token was revoked "
                          f"on {row.revoked_at:%Y-%m-%d %H:%M} UTC")
    if row.expires_at is not None and utc(row.expires_at) <= dt.datetime.now(dt.timezone.utc):   # to the microsecond
        raise AuthRefused(f"令牌已于 {row.expires_at:%Y-%m-%d %H:%M} 过期 / the token expired "
                          f"on {row.expires_at:%Y-%m-%d %H:%M} UTC")
    return ApiClient(row.name, tuple(json.loads(row.agencies)), row.can_write)
