"""The distribution kit: each school's printable QR page, the 致家长的一封信, a ZIP of every QR code."""

from __future__ import annotations

import io
import zipfile

import msgspec

from survey_service.core.errors import InvalidForm
from survey_service.core.manifest import MANIFEST_NAME, manifest
from survey_service.distribution.export import qr_filename
from survey_service.distribution.qr import qr_png
from survey_service.distribution.service import LinkRow, list_links
from survey_service.distribution.tables import KitLetter

DEFAULT_LETTER = """尊敬的家长：

您好！为了解社会各界对我县义务教育工作的评价，县教育局正在开展义务教育优质均衡发展社会认可度调查。\
问卷匿名填写，不记录姓名、电话等个人信息，约需 2 分钟。

请用手机微信扫描下方“家长”二维码，根据您的真实感受作答；对不了解的情况请选择“不了解”。每位家长填写一次即可。

感谢您对教育工作的理解和支持！

{school}
"""

INSTRUCTIONS = {
    "student": "三年级及以上学生在老师组织下扫码填写。",
    "parent": "请家长用手机微信扫码填写，每户一份。",
    "teacher": "本校教师扫码填写。",
    "principal": "校级领导扫码填写。",
    "deputy": "人大代表、政协委员扫码填写。",
    "public": "其他群众扫码填写。",
}
MAX_LETTER = 4000


class KitCode(msgspec.Struct, kw_only=True, frozen=True):
    group: str
    group_label: str
    token: str
    url: str
    instructions: str


class SchoolKit(msgspec.Struct, kw_only=True, frozen=True):
    school_code: str
    school_name: str
    codes: list[KitCode]
    letter: str


async def letter_text(survey_id: int) -> str:
    row = await KitLetter.select(KitLetter.text).where(KitLetter.survey == survey_id).first()
    return row["text"] if row else DEFAULT_LETTER


async def save_letter(survey_id: int, text: str) -> None:
    text = text.replace("\r\n", "\n").strip()
    if not text or len(text) > MAX_LETTER:
        raise InvalidForm(f"请填写致家长的一封信（{MAX_LETTER} 字以内）。")
    if await KitLetter.exists().where(KitLetter.survey == survey_id):
        await KitLetter.update({KitLetter.text: text}).where(KitLetter.survey == survey_id)
    else:
        await KitLetter.insert(KitLetter(survey=survey_id, text=text))


def _code(row: LinkRow) -> KitCode:
    return KitCode(
        group=row.group.value,
        group_label=row.group_label,
        token=row.token,
        url=row.url,
        instructions=INSTRUCTIONS[row.group.value],
    )


async def school_kits(survey_id: int, public_url: str, school_code: str | None = None) -> list[SchoolKit]:
    """One kit per school (and one for the county-level groups when no school is named)."""
    letter = await letter_text(survey_id)
    kits: dict[str, SchoolKit] = {}
    for row in await list_links(survey_id, public_url):
        if school_code is not None and row.school_code != school_code:
            continue
        kit = kits.get(row.school_code) or SchoolKit(
            school_code=row.school_code,
            school_name=row.school_name,
            codes=[],
            letter=letter.replace("{school}", row.school_name),
        )
        kit.codes.append(_code(row))
        kits[row.school_code] = kit
    # The schools first, in code order; the county-level groups' page last.
    return sorted(kits.values(), key=lambda kit: (kit.school_code == "", kit.school_code))


async def school_links(survey_id: int, public_url: str, school_code: str | None = None) -> list[LinkRow]:
    rows = await list_links(survey_id, public_url)
    return rows if school_code is None else [row for row in rows if row.school_code == school_code]


def qr_zip(rows: list[LinkRow]) -> bytes:
    """Every QR code as PNG, with a SHA-256 manifest of them inside."""
    files = {qr_filename(row, "png"): qr_png(row.url) for row in rows}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr(MANIFEST_NAME, manifest(files))
    return buffer.getvalue()
