"""The respondent's side of one-time access codes (访问码): a link whose group the round asks codes of
admits an answer only with a code of that link, not voided, not used. Each code admits exactly one
stored answer: the answer stores the code's keyed hash, which a unique index allows once
(respond/tables.py INDEXES), and the ledger treats a code already stored like a replayed nonce
(ledger/store.py plan_batch). The check here comes first and only words the refusal.

Also the counts the console shows per link (issued, used, voided) and voiding a lost sheet's codes."""

from __future__ import annotations

import msgspec
from piccolo.query.functions.aggregate import Count

from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.distribution.access_codes import find_code
from survey_service.distribution.service import LinkContext
from survey_service.distribution.tables import AccessCode, Link
from survey_service.respond.tables import Response

# The form field, JSON field and error key of the code.
ACCESS_CODE_FIELD = "access_code"

MISSING = "请先输入访问码。访问码印在教育局发给您的访问码纸条上（8 位字母和数字，如 K7M4-Q9RX）。"
MALFORMED = "访问码格式不正确：应为 8 位字母和数字（如 K7M4-Q9RX），不含数字 0、1 和字母 O、I、L。请核对后重新输入。"
UNKNOWN = "访问码不正确，请核对纸条上的访问码后重新输入（不区分大小写）。"
OTHER_LINK = "这个访问码不是本问卷的（学校或身份不符）。请扫描与访问码印在同一张纸条上的二维码后再输入。"
VOIDED = "这个访问码已作废，请向发放访问码的教育局索取新的访问码。"
USED = "这个访问码已经使用过，每个访问码只能提交一次。如您尚未填写过，请向教育局索取新的访问码。"


class CodeCheck(msgspec.Struct, kw_only=True, frozen=True):
    """A code's hash once it is known to be this link's (and usable), else the reason it is refused."""

    code_hash: str | None = None
    refusal: str | None = None
    used_by: str | None = None  # the nonce of the answer that used it, when refused as used


async def check_code(secret: str, link: LinkContext, typed: str | None) -> CodeCheck:
    """Whether `typed` admits an answer to `link`: known, this link's, not voided, not used yet."""
    if not (typed or "").strip():
        return CodeCheck(refusal=MISSING)
    found = await find_code(secret, typed or "")
    if found is None:
        return CodeCheck(refusal=MALFORMED)
    if found.link_id is None:
        return CodeCheck(refusal=UNKNOWN)
    if found.link_id != link.link_id:
        return CodeCheck(refusal=OTHER_LINK)
    used = await Response.select(Response.nonce).where(Response.access_code_hash == found.code_hash).first()
    if used is not None:
        return CodeCheck(refusal=USED, used_by=used["nonce"])
    if found.voided:
        return CodeCheck(refusal=VOIDED)
    return CodeCheck(code_hash=found.code_hash)


async def nonce_stored(nonce: str) -> bool:
    return await Response.exists().where(Response.nonce == nonce)


class CodeCounts(msgspec.Struct, kw_only=True, frozen=True):
    """A link's codes: issued (every one generated), used (an answer stored with it), voided unused."""

    issued: int = 0
    used: int = 0
    voided: int = 0

    @property
    def available(self) -> int:
        return self.issued - self.used - self.voided


async def code_counts(survey_id: int) -> dict[int, CodeCounts]:
    """Per link of the round (links without codes left out)."""
    issued = await (
        AccessCode.select(AccessCode.link, AccessCode.voided, Count())
        .where(AccessCode.survey == survey_id)
        .group_by(AccessCode.link, AccessCode.voided)
    )
    used = await (
        Response.select(Response.link, Count())
        .where((Response.survey == survey_id) & Response.access_code_hash.is_not_null())
        .group_by(Response.link)
    )
    used_by_link = {row["link"]: row["count"] for row in used}
    voided_used = await _voided_used(survey_id)
    totals: dict[int, dict[str, int]] = {}
    for row in issued:
        entry = totals.setdefault(row["link"], {"issued": 0, "voided": 0})
        entry["issued"] += row["count"]
        if row["voided"]:
            entry["voided"] += row["count"]
    return {
        link: CodeCounts(
            issued=entry["issued"],
            used=used_by_link.get(link, 0),
            voided=entry["voided"] - voided_used.get(link, 0),
        )
        for link, entry in totals.items()
    }


async def _voided_used(survey_id: int) -> dict[int, int]:
    """Codes voided after they were used (voiding leaves them used): counted as used, not voided."""
    voided = await AccessCode.select(AccessCode.link, AccessCode.code_hash).where(
        (AccessCode.survey == survey_id) & (AccessCode.voided == True)  # noqa: E712 (a query, not a test)
    )
    if not voided:
        return {}
    hashes = [row["code_hash"] for row in voided]
    used = {
        row["access_code_hash"]
        for row in await Response.select(Response.access_code_hash).where(Response.access_code_hash.is_in(hashes))
    }
    counts: dict[int, int] = {}
    for row in voided:
        if row["code_hash"] in used:
            counts[row["link"]] = counts.get(row["link"], 0) + 1
    return counts


async def void_unused_codes(survey_id: int, link_id: int) -> int:
    """Void a link's codes not used yet (a lost sheet); how many were voided. Used ones stay as they are."""
    rows = await AccessCode.select(AccessCode.code_hash).where(
        (AccessCode.survey == survey_id) & (AccessCode.link == link_id) & (AccessCode.voided == False)  # noqa: E712
    )
    hashes = [row["code_hash"] for row in rows]
    if not hashes:
        return 0
    used = {
        row["access_code_hash"]
        for row in await Response.select(Response.access_code_hash).where(Response.access_code_hash.is_in(hashes))
    }
    unused = [h for h in hashes if h not in used]
    if unused:
        await AccessCode.update({AccessCode.voided: True}).where(AccessCode.code_hash.is_in(unused))
    return len(unused)


# Who a group's codes are for, by the roster column that counts them (county groups: the round's
# county_populations).
ROSTER_COLUMNS = {"student": "students", "parent": "parents", "teacher": "teachers", "principal": "principals"}


class LinkCodes(msgspec.Struct, kw_only=True, frozen=True):
    """One link of a group that needs codes (or has some): whose, how many people, its codes."""

    link_id: int
    token: str
    school_code: str | None
    school_name: str | None
    group: Group
    people: int  # on the roster (or the county group's population); 0 when unknown
    counts: CodeCounts

    @property
    def group_label(self) -> str:
        return GROUP_LABELS[self.group]


async def code_overview(survey_id: int, groups: list[Group], county_populations: dict[str, int]) -> list[LinkCodes]:
    """The round's links of `groups` (those asked for codes) and of any link with codes issued, school
    by school, then the county groups."""
    counts = await code_counts(survey_id)
    rows = await (
        Link.select(
            Link._meta.primary_key,
            Link.token,
            Link.respondent_group,
            Link.school.code,
            Link.school.name,
            *(getattr(Link.school, column) for column in ROSTER_COLUMNS.values()),
        )
        .where(Link.survey == survey_id)
        .order_by(Link.school.code)
        .order_by(Link._meta.primary_key)
    )
    wanted = {g.value for g in groups}
    found: list[LinkCodes] = []
    for row in rows:
        if row["respondent_group"] not in wanted and row["id"] not in counts:
            continue
        group = Group(row["respondent_group"])
        column = ROSTER_COLUMNS.get(group.value)
        people = row[f"school.{column}"] if column and row["school.code"] else county_populations.get(group.value, 0)
        found.append(
            LinkCodes(
                link_id=row["id"],
                token=row["token"],
                school_code=row["school.code"],
                school_name=row["school.name"],
                group=group,
                people=people or 0,
                counts=counts.get(row["id"], CodeCounts()),
            )
        )
    return sorted(found, key=lambda link: (link.school_code is None, link.school_code or "", link.link_id))
