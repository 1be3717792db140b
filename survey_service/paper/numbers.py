"""Paper form numbers: printed as 学校代码-组别-序号 (WQ01-家长-0007), typed as printed, or as the serial
alone (7) on the page of that school × group. The form's QR code holds the same number in plain ASCII
(WQ01-P-0007), since a barcode scanner types into the number field as a keyboard does, and a keyboard
types no Chinese."""

from __future__ import annotations

import re
import unicodedata

from survey_service.core.errors import SurveyServiceError
from survey_service.core.groups import GROUP_LABELS, Group

SERIAL_DIGITS = 4
MAX_SERIAL = 999_999
_SERIAL = re.compile(r"\d{1,6}")
# Any printed number's shape: a school code, a group's name, a serial.
_PRINTED = re.compile(r"(?P<prefix>.+)-(?P<serial>\d{1,6})")


class FormNumberInvalid(SurveyServiceError):
    """A typed form number this page cannot take: nothing was entered."""

    status_code = 422
    code = "invalid_form_number"
    message = "问卷编号格式不对。"


# The group's letter in a scanned number (学生 S, 家长 P, 教师 T, 校长 Z).
SCAN_LETTERS = {Group.student: "S", Group.parent: "P", Group.teacher: "T", Group.principal: "Z"}


def form_number(school_code: str, group_label: str, serial: int) -> str:
    return f"{school_code}-{group_label}-{serial:0{SERIAL_DIGITS}d}"


def scan_code(school_code: str, group: Group, serial: int) -> str:
    """What the form's QR code holds: its number with the group's letter for its name."""
    return f"{school_code}-{SCAN_LETTERS[group]}-{serial:0{SERIAL_DIGITS}d}"


def parse_serial(typed: str, school_code: str, group: Group) -> int:
    """The serial of a typed form number on the entry page of `school_code` × `group_label`; full-width
    digits and dashes (a Chinese input method) and spaces are read as plain ones."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", typed or ""))
    group_label = GROUP_LABELS[group]
    example = form_number(school_code, group_label, 1)
    if not text:
        raise FormNumberInvalid(f"请先输入问卷编号（印在问卷右上角，如 {example}，也可只输入末尾的序号 1）。")
    if _SERIAL.fullmatch(text):
        serial = int(text)
    elif (printed := _PRINTED.fullmatch(text)) is not None:
        if printed["prefix"] not in (f"{school_code}-{group_label}", f"{school_code}-{SCAN_LETTERS[group]}"):
            raise FormNumberInvalid(
                f"编号 {text} 不是本页（{school_code} · {group_label}）的问卷，请在该问卷所属学校和调查对象的录入页录入。"
            )
        serial = int(printed["serial"])
    else:
        raise FormNumberInvalid(
            f"问卷编号“{text[:40]}”格式不对：应为印在问卷右上角的编号，如 {example}，或只输入末尾的序号 1。"
        )
    if not 1 <= serial <= MAX_SERIAL:
        raise FormNumberInvalid(f"问卷编号的序号应在 1 至 {MAX_SERIAL} 之间。")
    return serial
