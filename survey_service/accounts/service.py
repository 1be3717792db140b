"""Console accounts: create them, check a login (with throttling), find who a session belongs to."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import msgspec

from survey_service.accounts.errors import LoginFailed, LoginLocked
from survey_service.accounts.passwords import hash_password, verify_password
from survey_service.accounts.schemas import USERNAME_PATTERN, AccountSpec, CurrentUser, Role
from survey_service.accounts.tables import Account, LoginThrottle
from survey_service.core.errors import Conflict, InvalidForm

# Failures allowed before the first lockout; each further failure doubles it, up to the cap. Per
# username × address, and (more generously, as many people may share one address) per username.
FREE_FAILURES = 5
FREE_ACCOUNT_FAILURES = 20
SLOT_RETRIES = 200
FIRST_LOCKOUT = timedelta(seconds=30)
LONGEST_LOCKOUT = timedelta(hours=1)


FIELD_RULES = {
    "password": "密码至少 8 个字符，最多 200 个字符。",
    "username": "用户名只能由字母、数字和 _ . @ - 组成，最多 64 个字符。",
    "school_code": "学校代码最多 32 个字符。",
    "role": "角色只能是 bureau（教育局）或 school（学校）。",
}


def check_spec(spec: AccountSpec) -> AccountSpec:
    """An operator needs a school code; a bureau account must not have one."""
    if spec.role is Role.school and not spec.school_code:
        raise InvalidForm("学校账号必须指定学校代码 (--school)。")
    if spec.role is Role.bureau and spec.school_code:
        raise InvalidForm("教育局账号不属于某一所学校，请不要指定学校代码。")
    return spec


def account_spec(**fields) -> AccountSpec:
    try:
        return check_spec(msgspec.convert(fields, AccountSpec))
    except msgspec.ValidationError as exc:
        field = str(exc).rpartition("$.")[2].rstrip("`")
        raise InvalidForm(FIELD_RULES.get(field, f"账号信息无效：{exc}")) from exc


async def add_account(spec: AccountSpec) -> int:
    check_spec(spec)
    if await Account.exists().where(Account.username == spec.username):
        raise Conflict(f"用户名 {spec.username} 已存在。")
    rows = await Account.insert(
        Account(
            username=spec.username,
            password_hash=hash_password(spec.password),
            role=spec.role.value,
            school_code=spec.school_code,
            active=True,
            created_at=datetime.now(UTC),
        )
    )
    return rows[0]["id"]


async def account_exists(username: str) -> bool:
    return await Account.exists().where(Account.username == username)


async def set_bureau_password(username: str, password: str) -> None:
    """Create the bureau account, or give the existing one this password (the demo's `admin`: a demo may
    use a short password, so only an empty one is refused)."""
    if not password:
        raise InvalidForm("密码不能为空。")
    updated = (
        await Account.update(
            {
                Account.password_hash: hash_password(password),
                Account.role: "bureau",
                Account.school_code: None,
                Account.active: True,
            }
        )
        .where(Account.username == username)
        .returning(Account.id)
    )
    if not updated:
        await Account.insert(
            Account(
                username=username,
                password_hash=hash_password(password),
                role="bureau",
                active=True,
                created_at=datetime.now(UTC),
            )
        )


async def find_user(user_id: object) -> CurrentUser | None:
    """The active account a session names, or None (deleted, deactivated, or a malformed session)."""
    if not isinstance(user_id, int):
        return None
    row = await (
        Account.select(Account.id, Account.username, Account.role, Account.school_code)
        .where((Account.id == user_id) & (Account.active == True))  # noqa: E712
        .first()
    )
    return None if row is None else CurrentUser(**row | {"role": Role(row["role"])})


async def authenticate(username: str, password: str, address: str) -> CurrentUser:
    """The account for this username and password.

    Every attempt first takes a slot from two throttles, atomically (a compare-and-set on the failure
    count): one per username × address, and one per username from any address (more generous). Only
    an attempt holding both slots has its password checked, so N parallel guesses get at most the
    free failures evaluated before the lockout, whatever their timing, on either backend. A correct
    password clears both; a wrong one leaves its slot counted."""
    if not re.fullmatch(USERNAME_PATTERN, username.strip()):
        # No account has such a name (a NUL byte, 10,000 characters…): nothing to look up or count.
        verify_password(None, password)  # the same time as any other failure
        raise LoginFailed()
    name = username.strip().lower()
    now = datetime.now(UTC)
    keys = (f"{name}|{address}", f"{name}|*")
    await _take_slot(keys[0], FREE_FAILURES, now)
    await _take_slot(keys[1], FREE_ACCOUNT_FAILURES, now)
    row = await (
        Account.select(Account.id, Account.password_hash)
        .where((Account.username == username.strip()) & (Account.active == True))  # noqa: E712
        .first()
    )
    # The password is checked (against a dummy hash) even for an unknown name: no timing tells them apart.
    if not verify_password(row["password_hash"] if row else None, password) or row is None:
        locked_until = await _locked_until(keys, now)
        if locked_until is not None:  # this failure earned the lockout
            raise LoginLocked(_locked_message(locked_until - now))
        raise LoginFailed()
    await LoginThrottle.delete().where(LoginThrottle.key.is_in(list(keys)))
    user = await find_user(row["id"])
    assert user is not None
    return user


def lockout(failures: int, free: int = FREE_FAILURES) -> timedelta | None:
    """No lockout for the first few failures, then 30 s, 60 s, 120 s, … up to an hour."""
    if failures < free:
        return None
    return min(FIRST_LOCKOUT * 2 ** min(failures - free, 16), LONGEST_LOCKOUT)


async def _take_slot(key: str, free: int, now: datetime) -> None:
    """Count one more attempt under `key`, or raise LoginLocked while it is locked. A compare-and-set
    on the count: of attempts racing for the same count, one wins and the others read again."""
    await LoginThrottle.insert(LoginThrottle(key=key, failures=0, locked_until=None)).on_conflict(
        target=LoginThrottle.key, action="DO NOTHING"
    )
    for _ in range(SLOT_RETRIES):
        current = (
            await LoginThrottle.select(LoginThrottle.failures, LoginThrottle.locked_until)
            .where(LoginThrottle.key == key)
            .first()
        )
        if current is None:  # cleared by a successful login meanwhile: start again
            await LoginThrottle.insert(LoginThrottle(key=key, failures=0, locked_until=None)).on_conflict(
                target=LoginThrottle.key, action="DO NOTHING"
            )
            continue
        if current["locked_until"] and current["locked_until"] > now:
            raise LoginLocked(_locked_message(current["locked_until"] - now))
        failures = current["failures"] + 1
        wait = lockout(failures, free)
        taken = (
            await LoginThrottle.update(
                {LoginThrottle.failures: failures, LoginThrottle.locked_until: now + wait if wait else None}
            )
            .where((LoginThrottle.key == key) & (LoginThrottle.failures == current["failures"]))
            .returning(LoginThrottle.id)
        )
        if taken:
            return
    raise LoginLocked()  # contended beyond reason: as good as locked


async def _locked_until(keys: tuple[str, ...], now: datetime) -> datetime | None:
    """The latest lockout now set on these keys, if any."""
    rows = await LoginThrottle.select(LoginThrottle.locked_until).where(LoginThrottle.key.is_in(list(keys)))
    ends = [row["locked_until"] for row in rows if row["locked_until"] and row["locked_until"] > now]
    return max(ends, default=None)


def _locked_message(wait: timedelta) -> str:
    seconds = max(int(wait.total_seconds()), 1)
    when = f"{seconds} 秒" if seconds < 120 else f"{(seconds + 59) // 60} 分钟"
    return f"登录失败次数过多，账号在本设备上已暂时锁定，请在 {when}后再试。"
