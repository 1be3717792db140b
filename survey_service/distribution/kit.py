"""The distribution kit: each school's printable sheets (one per audience, the 致家长的一封信 on the
parents'), the links and messages a school sends, a ZIP of every QR code captioned."""

from __future__ import annotations

import io
import re
import zipfile

import msgspec

from survey_service.core.errors import InvalidForm
from survey_service.core.groups import Group
from survey_service.core.manifest import MANIFEST_NAME, manifest
from survey_service.distribution.export import qr_filenames
from survey_service.distribution.qr import captioned
from survey_service.distribution.service import LinkRow, list_links
from survey_service.distribution.tables import KitLetter

DEFAULT_LETTER = """尊敬的家长：

您好！为了解社会各界对我县义务教育工作的评价，县教育局正在开展义务教育优质均衡发展社会认可度调查。\
问卷匿名填写，不记录姓名、电话等个人信息，约需 2 分钟。

请用手机微信扫描下方“家长”二维码，根据您的真实感受作答；对不了解的情况请选择“不了解”。每位家长填写一次即可。

感谢您对教育工作的理解和支持！

{school}
"""

MAX_LETTER = 4000
# The letter is printed above the parents' code: a letter pointing up to it would mislead.
_POINTS_UP = re.compile(r"上方.{0,8}二维码|二维码.{0,4}(在|见)上")

# The printed kit: one sheet per audience, each with only its own group's code, for the place it is
# posted or handed out. Principals answer by a personal code the bureau issues (never a code on a wall).
AUDIENCES = {
    "parent": "家长",
    "student": "学生",
    "staff": "教职工",
    "county": "全县",
}
SHEET_LINES = {
    Group.parent: ["请家长用手机微信扫码填写，每户填写一份。"],
    Group.student: [
        "适用对象：本校三年级及以上学生（三年级以下学生不填写）。",
        "请在老师组织下，在教室或机房用手机、平板或电脑扫码填写，每人填写一次。",
        "问卷不记录姓名。请根据自己的真实感受作答，不了解的情况请选择“不了解”。",
    ],
    Group.teacher: [
        "本校教师用手机扫码填写，每人填写一次。问卷不记录姓名。",
        "校长请勿使用本页二维码：校长问卷由县教育局向每位校长单独发放个人填写码。",
    ],
    Group.deputy: ["人大代表、政协委员用手机扫码填写，每人填写一次。问卷不记录姓名。"],
    Group.public: ["其他群众用手机扫码填写，每人填写一次。问卷不记录姓名。"],
}
SHEET_AUDIENCE = {
    Group.parent: "parent",
    Group.student: "student",
    Group.teacher: "staff",
    Group.deputy: "county",
    Group.public: "county",
}
# What a school's operator sends to its WeChat groups, and the groups it sends to.
SHARED_GROUPS = (Group.parent, Group.student, Group.teacher)
MESSAGES = {
    Group.parent: "各位家长：请扫码或点击链接填写{school}义务教育社会认可度调查问卷（匿名，约 2 分钟，每户填写一份），"
    "{closes} 前有效：{url}",
    Group.student: "各位班主任：请组织本班三年级及以上学生扫码或点击链接填写学生问卷（匿名，约 2 分钟，每人一次），"
    "{closes} 前有效：{url}",
    Group.teacher: "各位老师：请扫码或点击链接填写{school}教师问卷（匿名，约 2 分钟，每人一次），{closes} 前有效：{url}",
}


class KitCode(msgspec.Struct, kw_only=True, frozen=True):
    group: str
    group_label: str
    token: str
    url: str
    caption: str  # under the code, on paper: whose code it is


class Sheet(msgspec.Struct, kw_only=True, frozen=True):
    """One printed A4 page: one group's code, what to do with it, and for parents the letter above it."""

    audience: str  # a key of AUDIENCES
    school_code: str
    school_name: str
    code: KitCode
    lines: list[str]
    letter: str | None = None


class SchoolKit(msgspec.Struct, kw_only=True, frozen=True):
    school_code: str
    school_name: str
    sheets: list[Sheet]


class ShareLink(msgspec.Struct, kw_only=True, frozen=True):
    """A link as a school's operator sends it: the address, a ready WeChat message, its code's caption."""

    group: str
    group_label: str
    url: str
    message: str
    caption: list[str]


def caption_lines(row: LinkRow) -> list[str]:
    """What every QR image says under itself: the school's name (全县 for a county group) and the group."""
    return [row.school_name, f"{row.group_label}问卷"]


async def letter_text(survey_id: int) -> str:
    row = await KitLetter.select(KitLetter.text).where(KitLetter.survey == survey_id).first()
    return row["text"] if row else DEFAULT_LETTER


async def save_letter(survey_id: int, text: str) -> None:
    text = text.replace("\r\n", "\n").strip()
    if not text or len(text) > MAX_LETTER:
        raise InvalidForm(f"请填写致家长的一封信（{MAX_LETTER} 字以内）。")
    if _POINTS_UP.search(text):
        raise InvalidForm("二维码印在信的下方，请把信中的“上方”改为“下方”。")
    if await KitLetter.exists().where(KitLetter.survey == survey_id):
        await KitLetter.update({KitLetter.text: text}).where(KitLetter.survey == survey_id)
    else:
        await KitLetter.insert(KitLetter(survey=survey_id, text=text))


def _sheet(row: LinkRow, letter: str) -> Sheet:
    code = KitCode(
        group=row.group.value,
        group_label=row.group_label,
        token=row.token,
        url=row.url,
        caption=f"{row.school_name} · {row.group_label}问卷二维码",
    )
    return Sheet(
        audience=SHEET_AUDIENCE[row.group],
        school_code=row.school_code,
        school_name=row.school_name,
        code=code,
        lines=SHEET_LINES[row.group],
        letter=letter.replace("{school}", row.school_name) if row.group is Group.parent else None,
    )


SHEET_ORDER = [Group.parent, Group.student, Group.teacher, Group.deputy, Group.public]


async def school_kits(
    survey_id: int, public_url: str, school_code: str | None = None, audience: str | None = None
) -> list[SchoolKit]:
    """One kit per school (and one for the county-level groups when no school is named): its sheets,
    parents' first; only the audience's sheets when one is named. No sheet carries a principal's code."""
    letter = await letter_text(survey_id)
    kits: dict[str, SchoolKit] = {}
    rows = [row for row in await list_links(survey_id, public_url) if row.group in SHEET_AUDIENCE]
    rows.sort(key=lambda row: SHEET_ORDER.index(row.group))
    for row in rows:
        if school_code is not None and row.school_code != school_code:
            continue
        if audience is not None and SHEET_AUDIENCE[row.group] != audience:
            continue
        kit = kits.setdefault(
            row.school_code, SchoolKit(school_code=row.school_code, school_name=row.school_name, sheets=[])
        )
        kit.sheets.append(_sheet(row, letter))
    # The schools first, in code order; the county-level groups' sheets last.
    return sorted(kits.values(), key=lambda kit: (kit.school_code == "", kit.school_code))


def share_links(rows: list[LinkRow], closes_at: str) -> list[ShareLink]:
    """A school's links for its operator to send: parents', students' and teachers' (never principals')."""
    return [
        ShareLink(
            group=row.group.value,
            group_label=row.group_label,
            url=row.url,
            message=MESSAGES[row.group].format(school=row.school_name, closes=closes_at, url=row.url),
            caption=caption_lines(row),
        )
        for group in SHARED_GROUPS
        for row in rows
        if row.group is group
    ]


async def school_links(survey_id: int, public_url: str, school_code: str | None = None) -> list[LinkRow]:
    rows = await list_links(survey_id, public_url)
    return rows if school_code is None else [row for row in rows if row.school_code == school_code]


def captioned_files(rows: list[LinkRow], fmt: str = "png") -> dict[str, bytes]:
    """Each link's code captioned with its school and group, by readable file name; SVG (the caption as
    text) instead of PNG when the server has no CJK font to draw the caption with."""
    images = [captioned(row.url, caption_lines(row), fmt) for row in rows]
    fmt = images[0][0] if images else fmt
    return dict(zip(qr_filenames(rows, fmt), (data for _, data in images)))


def qr_zip(rows: list[LinkRow]) -> bytes:
    """Every QR code, captioned, with a SHA-256 manifest of them inside."""
    files = captioned_files(rows)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST_NAME, manifest(files))
    return buffer.getvalue()
