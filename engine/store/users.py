"""The web workspace's tables: users, server-side sessions, login attempts, calendar-feed tokens.

Everything a server process needs to know about a login lives here, in the store, so several processes
on one PostgreSQL store behave as one: no session, rate-limit counter or token is kept in memory.
Secrets are stored as SHA-256 digests (a session cookie, a feed token); passwords as argon2 hashes.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

__all__ = ["UserRow", "SessionRow", "LoginAttemptRow", "FeedTokenRow"]


class UserRow(SQLModel, table=True):
    __tablename__ = "users"

    id: Optional[int] = Field(default=None, primary_key=True)
    login: str = Field(max_length=60, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=200)
    roles: str = Field(default="", max_length=200)          # comma-separated: officer,legal_reviewer,…
    agencies: str = Field(default="", max_length=1000)      # comma-separated agency codes
    district: Optional[str] = Field(default=None, max_length=60)   # a supervisor's district (all its agencies)
    officer_id: Optional[str] = Field(default=None, max_length=120)
    certificate: Optional[str] = Field(default=None, max_length=120)   # 执法证号 (revision 0012): who the user is
    disabled: bool = False
    created_at: dt.datetime


class SessionRow(SQLModel, table=True):
    __tablename__ = "web_sessions"

    id: str = Field(primary_key=True, max_length=64)         # sha256 of the cookie's token
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf: str = Field(max_length=64)
    created_at: dt.datetime
    expires_at: dt.datetime = Field(index=True)


class LoginAttemptRow(SQLModel, table=True):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_login_at", "login", "at"),
                      Index("ix_login_attempts_address_at", "address", "at"))

    id: Optional[int] = Field(default=None, primary_key=True)
    login: str = Field(max_length=60)
    address: str = Field(max_length=60)
    at: dt.datetime
    ok: bool = False


class FeedTokenRow(SQLModel, table=True):
    __tablename__ = "feed_tokens"

    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: dt.datetime
    revoked_at: Optional[dt.datetime] = None
