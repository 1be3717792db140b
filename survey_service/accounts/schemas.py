from __future__ import annotations

import enum
from typing import Annotated

import msgspec

USERNAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=USERNAME_PATTERN)]


class Role(enum.StrEnum):
    bureau = "bureau"  # 教育局: the whole county
    school = "school"  # 学校: one school code


ROLE_LABELS = {Role.bureau: "教育局", Role.school: "学校"}


class AccountSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    username: Username
    role: Role
    school_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)] | None = None
    password: Annotated[str, msgspec.Meta(min_length=8, max_length=200)]


class CurrentUser(msgspec.Struct, kw_only=True, frozen=True):
    """Who is signed in, as every console page sees it."""

    id: int
    username: str
    role: Role
    school_code: str | None

    @property
    def is_bureau(self) -> bool:
        return self.role is Role.bureau

    def may_see_school(self, school_code: str | None) -> bool:
        return self.is_bureau or (school_code is not None and school_code == self.school_code)
