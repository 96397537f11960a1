"""Users of the web workspace: roles, agency scopes, argon2 passwords, server-side sessions, login
rate-limit, calendar-feed tokens. The CLI (``casecheck user …``) and the web edge both call these.

Everything is in the store (``engine.store.users``), nothing in memory: several server processes on one
PostgreSQL store see the same sessions, counters and tokens. A cookie or a feed URL carries a random
token; the store keeps only its SHA-256 digest.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable

import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, update
from sqlmodel import select

from .definitions import rules_path
from .errors import CasecheckError
from .persons import certificate_key
from .store import Store
from .store.users import FeedTokenRow, LoginAttemptRow, SessionRow, UserRow

__all__ = ["ROLES", "User", "UserError", "LoginRefused", "add_user", "set_password", "disable_user",
           "list_users", "authenticate", "open_session", "session_user", "close_session", "new_feed_token",
           "revoke_feed_tokens", "feed_user", "district_agencies", "role_label"]

log = logging.getLogger("casecheck.users")

ROLES = {
    "officer": ("承办人", "case officer"),
    "legal_reviewer": ("法制审核员", "legal reviewer"),
    "head": ("负责人", "head of agency"),
    "case_reviewer": ("评查员", "case-file reviewer"),
    "supervisor": ("监督员", "supervisor"),
    "admin": ("管理员", "administrator"),
}
SESSION_HOURS = 8                     # a session ends 8 hours after its last use
LOGIN_WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_LOGIN = 5            # failed attempts per login within the window
MAX_FAILURES_PER_ADDRESS = 30         # failed attempts per client address within the window
_hasher = PasswordHasher()            # argon2id, the library's (RFC 9106) defaults
_LOGIN = re.compile(r"^[A-Za-z0-9_.-]{2,60}$")


class UserError(CasecheckError):
    pass


class LoginRefused(CasecheckError):
    """Wrong login or password, a disabled user, or too many failed attempts (``limited``)."""

    def __init__(self, message: str, limited: bool = False):
        super().__init__(message)
        self.limited = limited


def role_label(role: str, lang: str = "zh") -> str:
    zh, en = ROLES.get(role, (role, role))
    return zh if lang == "zh" else en


@functools.cache
def _districts() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(rules_path("districts").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        out[str(data["code"])] = {"name": str(data.get("name", data["code"])),
                                  "agencies": tuple(str(a) for a in data.get("agencies", ()))}
    return out


def district_agencies(code: str) -> tuple[str, ...]:
    district = _districts().get(code)
    if district is None:
        raise UserError(f"没有辖区“{code}”（rules/districts/） / no district {code!r} "
                        f"(known: {', '.join(_districts()) or '—'})")
    return district["agencies"]


@dataclass(frozen=True)
class User:
    """A logged-in user as the web edge sees them: who, which roles, which agencies (the scope)."""

    id: int
    login: str
    name: str
    roles: frozenset[str]
    agencies: frozenset[str]
    officer_id: str | None
    district: str | None = None
    certificate: str | None = None     # 执法证号: the person (an officer id is a code of each case file)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def person(self) -> tuple[str | None, str, str | None]:
        """Who the user is among a case's officers: (officer id, name, certificate number)."""
        return self.officer_id, self.name, self.certificate

    @property
    def may_act(self) -> bool:
        """Linked to a person who may be an officer of a case (a certificate number, or an officer id)."""
        return bool(self.certificate or self.officer_id)

    @classmethod
    def of(cls, row: UserRow) -> "User":
        agencies = set(_split(row.agencies))
        if row.district:
            agencies.update(_districts().get(row.district, {}).get("agencies", ()))
        return cls(row.id, row.login, row.name, frozenset(_split(row.roles)), frozenset(agencies),
                   row.officer_id, row.district, row.certificate)


def acting_officer(user: Any, officers: Iterable[tuple[str, str | None, str | None]]) -> str:
    """The case's officer id that is ``user`` (a ``User``, or its ``person``: officer id, name, certificate;
    ``officers``: the case's (id, name, certificate)). A case file names its officers by codes of its own
    (O1 in one file is another person in the next), so a code alone proves nothing: a user with a
    certificate number is the officer holding it; a user without one is the officer of their code only when
    that officer has their name. Else ``RecorderRefused``, saying why."""
    from types import SimpleNamespace

    from .cases import RecorderRefused

    if isinstance(user, tuple):
        user = SimpleNamespace(officer_id=user[0], name=user[1], certificate=user[2])
    officers = list(officers)
    if user.certificate:
        mine = [i for i, _n, c in officers if c and certificate_key(c) == certificate_key(user.certificate)]
        if mine:
            return user.officer_id if user.officer_id in mine else mine[0]
        raise RecorderRefused(f"您（{user.name}，执法证号 {user.certificate}）不是本案的执法人员，不能以本案执法人员身份"
                              f"记录 / you ({user.name}, certificate {user.certificate}) are not an officer of this "
                              f"case")
    if not user.officer_id:
        raise RecorderRefused("您的账号未关联执法人员编号或执法证号，不能记录执法环节；请联系管理员 / your login is "
                              "linked to no officer id or certificate number: you may not record steps; ask an "
                              "administrator")
    same = [(n, c) for i, n, c in officers if i == user.officer_id]
    if not same:
        raise RecorderRefused(f"本案没有编号为 {user.officer_id} 的执法人员，您（{user.name}）不是本案执法人员 / the "
                              f"case has no officer {user.officer_id}: you ({user.name}) are not an officer of it")
    name, cert = same[0]
    if _name_key(name) != _name_key(user.name):
        raise RecorderRefused(f"本案的 {user.officer_id} 是{name}（{cert or '未登记执法证号'}），不是您（{user.name}）；"
                              f"请管理员为您的账号登记执法证号 / in this case {user.officer_id} is {name}, not you "
                              f"({user.name}): ask an administrator to add your certificate number to your login")
    return user.officer_id


def _name_key(text: str | None) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def _split(text: str) -> list[str]:
    return [part for part in (text or "").split(",") if part]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def _tx(store: Store) -> Any:
    """A short write transaction for logins, sessions and tokens: not serialised with the case writers
    (the PostgreSQL writers' lock guards cases and events, which these never touch)."""
    return store._transaction()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise UserError("密码至少 8 个字符 / a password needs at least 8 characters")


def add_user(store: Store, login: str, name: str, password: str, *, roles: Iterable[str],
             agencies: Iterable[str] = (), district: str | None = None, officer_id: str | None = None,
             certificate: str | None = None) -> User:
    roles, agencies = sorted(set(roles)), sorted(set(agencies))
    if not _LOGIN.match(login):
        raise UserError(f"登录名“{login}”无效：2–60 个字母、数字或 _ . - / login {login!r}: 2–60 letters, "
                        f"digits, _ . -")
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise UserError(f"角色无效 / unknown or missing role {', '.join(unknown) or '—'}: one or more of "
                        f"{', '.join(ROLES)}")
    if district:
        district_agencies(district)
    if not agencies and not district:
        raise UserError("用户须属于至少一个执法机关（--agency）或辖区（--district） / a user belongs to one or "
                        "more agencies (--agency) or a district (--district)")
    if "supervisor" in roles and not district and not agencies:
        raise UserError("监督员须指定辖区 / a supervisor needs --district")
    if {"officer", "legal_reviewer"} & set(roles) and not (officer_id or certificate):
        raise UserError("承办人、法制审核员须登记执法证号（--certificate），否则不能记录执法环节 / an officer or a legal "
                        "reviewer needs their certificate number (--certificate), or they cannot record steps")
    unknown_agencies = [a for a in agencies if a not in known_agencies(store)]
    if unknown_agencies:
        from .vocab import suggest

        known = sorted(known_agencies(store))
        guess = suggest(unknown_agencies[0], known)
        raise UserError(f"没有执法机关“{unknown_agencies[0]}”" + (f"；是否想写 {guess}？" if guess else "")
                        + f"（已知：{'、'.join(known) or '—'}：rules/agencies/ 的机关，或库中案件的机关） / no agency "
                        f"{unknown_agencies[0]!r} (known: the agencies of rules/agencies/ and of the store's cases)")
    _check_password(password)
    row = UserRow(login=login, name=name.strip() or login, password_hash=_hasher.hash(password),
                  roles=",".join(roles), agencies=",".join(agencies), district=district,
                  officer_id=(officer_id or None), certificate=certificate_key(certificate) or None,
                  created_at=_now())
    with store.writing() as session:
        if session.exec(select(UserRow.id).where(UserRow.login == login)).first() is not None:
            raise UserError(f"登录名“{login}”已存在 / login {login!r} exists")
        session.add(row)
        session.flush()
        return User.of(row)


def known_agencies(store: Store) -> set[str]:
    """The agency codes a user may belong to: those with a profile (rules/agencies/), of a district
    (rules/districts/), or of a case in the store."""
    from .store.tables import CaseRow

    codes = {p.stem for p in rules_path("agencies").glob("*.yaml")}
    codes.update(a for d in _districts().values() for a in d.get("agencies", ()))
    with store.reading() as session:
        codes.update(session.exec(select(CaseRow.agency).distinct()).all())
    return codes


def _get(session: Any, login: str) -> UserRow:
    row = session.exec(select(UserRow).where(UserRow.login == login)).first()
    if row is None:
        raise UserError(f"没有用户“{login}” / no user {login!r}")
    return row


def set_password(store: Store, login: str, password: str) -> None:
    """A new password; the user's open sessions end."""
    _check_password(password)
    with store.writing() as session:
        row = _get(session, login)
        row.password_hash = _hasher.hash(password)
        session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))


def disable_user(store: Store, login: str) -> None:
    """The user can no longer log in; their sessions end and their feed tokens are revoked."""
    with store.writing() as session:
        row = _get(session, login)
        row.disabled = True
        session.execute(delete(SessionRow).where(SessionRow.user_id == row.id))
        session.execute(update(FeedTokenRow).where(FeedTokenRow.user_id == row.id,
                                                   FeedTokenRow.revoked_at.is_(None)).values(revoked_at=_now()))


def list_users(store: Store) -> list[UserRow]:
    with store.reading() as session:
        return list(session.exec(select(UserRow).order_by(UserRow.login)).all())


def authenticate(store: Store, login: str, password: str, address: str) -> User:
    """The user, if the password is right and the login is not locked out; every attempt is stored (and
    logged). Refused after too many failures within ``LOGIN_WINDOW`` for this login or this address."""
    login = login.strip()[:60]
    address = (address or "?")[:60]
    since = _now() - LOGIN_WINDOW
    with store.reading() as session:
        by_login = session.exec(select(func.count()).select_from(LoginAttemptRow).where(
            LoginAttemptRow.login == login, LoginAttemptRow.at >= since, LoginAttemptRow.ok.is_(False))).one()
        by_address = session.exec(select(func.count()).select_from(LoginAttemptRow).where(
            LoginAttemptRow.address == address, LoginAttemptRow.at >= since, LoginAttemptRow.ok.is_(False))).one()
        row = session.exec(select(UserRow).where(UserRow.login == login)).first()
    limited = by_login >= MAX_FAILURES_PER_LOGIN or by_address >= MAX_FAILURES_PER_ADDRESS
    ok = False
    if not limited and row is not None and not row.disabled:
        try:
            ok = _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    with _tx(store) as session:
        session.add(LoginAttemptRow(login=login, address=address, at=_now(), ok=ok))
        if ok and _hasher.check_needs_rehash(row.password_hash):
            session.execute(update(UserRow).where(UserRow.id == row.id)
                            .values(password_hash=_hasher.hash(password)))
    log.info("login %s from %s: %s", login, address, "ok" if ok else ("rate-limited" if limited else "refused"))
    if limited:
        raise LoginRefused("登录失败次数过多，请 15 分钟后再试 / too many failed logins: try again in 15 minutes",
                           limited=True)
    if not ok:
        raise LoginRefused("登录名或密码错误 / wrong login or password")
    return User.of(row)


def open_session(store: Store, user: User) -> tuple[str, str]:
    """A new session: the cookie's token and the session's CSRF token."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    with _tx(store) as session:
        session.add(SessionRow(id=_digest(token), user_id=user.id, csrf=csrf, created_at=now,
                               expires_at=now + dt.timedelta(hours=SESSION_HOURS)))
        session.execute(delete(SessionRow).where(SessionRow.expires_at < now))      # the expired ones
    return token, csrf


def session_user(store: Store, token: str | None) -> tuple[User, str] | None:
    """The user and CSRF token of a live session; ``None`` when the token is unknown, expired or the user
    is disabled. The expiry slides forward once less than half of it is left (not a write per request)."""
    if not token or len(token) > 100:
        return None
    key, now = _digest(token), _now()
    with store.reading() as session:
        found = session.exec(select(SessionRow, UserRow).join(UserRow, UserRow.id == SessionRow.user_id)
                             .where(SessionRow.id == key, SessionRow.expires_at > now)).first()
    if found is None or found[1].disabled:
        return None
    row, user = found
    if _aware(row.expires_at) - now < dt.timedelta(hours=SESSION_HOURS / 2):
        with _tx(store) as session:
            session.execute(update(SessionRow).where(SessionRow.id == key)
                            .values(expires_at=now + dt.timedelta(hours=SESSION_HOURS)))
    return User.of(user), row.csrf


def close_session(store: Store, token: str | None) -> None:
    if token:
        with _tx(store) as session:
            session.execute(delete(SessionRow).where(SessionRow.id == _digest(token)))


def new_feed_token(store: Store, user: User) -> str:
    """A new secret for the user's calendar feed; any earlier one stops working."""
    token = secrets.token_urlsafe(32)
    with _tx(store) as session:
        session.execute(update(FeedTokenRow).where(FeedTokenRow.user_id == user.id,
                                                   FeedTokenRow.revoked_at.is_(None)).values(revoked_at=_now()))
        session.add(FeedTokenRow(user_id=user.id, token_hash=_digest(token), created_at=_now()))
    return token


def revoke_feed_tokens(store: Store, user: User) -> None:
    with _tx(store) as session:
        session.execute(update(FeedTokenRow).where(FeedTokenRow.user_id == user.id,
                                                   FeedTokenRow.revoked_at.is_(None)).values(revoked_at=_now()))


def has_feed(store: Store, user: User) -> bool:
    with store.reading() as session:
        return session.exec(select(FeedTokenRow.id).where(FeedTokenRow.user_id == user.id,
                                                          FeedTokenRow.revoked_at.is_(None))).first() is not None


def feed_user(store: Store, token: str) -> User | None:
    if not token or len(token) > 100:
        return None
    with store.reading() as session:
        found = session.exec(select(UserRow).join(FeedTokenRow, FeedTokenRow.user_id == UserRow.id)
                             .where(FeedTokenRow.token_hash == _digest(token),
                                    FeedTokenRow.revoked_at.is_(None))).first()
    return None if found is None or found.disabled else User.of(found)
