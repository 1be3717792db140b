from piccolo.columns import Boolean, Bytea, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table


class Account(Table):
    """A console user: bureau staff (the whole county) or a school's operator (one school code)."""

    id: Serial  # added by Piccolo; declared for the type checker only

    username = Varchar(length=64, unique=True, index=True)
    password_hash = Varchar(length=200)
    role = Varchar(length=16)  # "bureau" or "school"
    # A school code names the same school in every round, so an operator belongs to a code.
    school_code = Varchar(length=32, null=True, default=None)
    active = Boolean(default=True)
    created_at = Timestamptz()


class ConsoleSession(Table):
    """Server-side session data, shared by every worker (the store behind the session cookie)."""

    id: Serial  # added by Piccolo; declared for the type checker only

    key = Varchar(length=128, unique=True, index=True)
    value = Bytea()
    expires_at = Timestamptz(null=True, default=None)


class LoginThrottle(Table):
    """Failed logins per username × client address, with the lockout they earned."""

    id: Serial  # added by Piccolo; declared for the type checker only

    key = Varchar(length=200, unique=True, index=True)
    failures = Integer(default=0)
    locked_until = Timestamptz(null=True, default=None)
