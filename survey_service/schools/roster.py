"""The school roster as a file (CSV or XLSX): read it, check every row, name each problem by row number.

Any bad row refuses the whole file; nothing is imported until every row is right. CSV files saved by
Excel on a Chinese Windows are GB18030, not UTF-8: both are read.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from typing import TypeVar

import msgspec
from openpyxl import Workbook, load_workbook

from survey_service.core.csv_text import csv_text
from survey_service.schools.schemas import RosterSchool
from survey_service.schools.tables import Location, Stage

Row = TypeVar("Row", bound=RosterSchool)

# (field, Chinese header); the English field name is accepted as a header too.
COLUMNS = [
    ("code", "学校代码"),
    ("name", "学校名称"),
    ("stage", "学段"),
    ("location", "城乡类型"),
    ("students", "学生数"),
    ("parents", "家长数（户）"),
    ("teachers", "教师数"),
    ("principals", "校长数"),
]
HEADER_ALIASES = {alias: field for field, header in COLUMNS for alias in (field, header, header.split("（")[0])}
COUNT_FIELDS = {"students", "parents", "teachers", "principals"}
MAX_ROWS = 5000
EXAMPLE_ROWS = [
    ["XX01", "某某县第一小学", "小学", "城区", 1200, 1100, 80, 3],
    ["XX02", "某某镇中心小学", "小学", "镇区", 450, 430, 35, 2],
    ["XX03", "某某乡中学", "初中", "乡村", 300, 290, 30, 2],
]


class RosterError(ValueError):
    """A roster file that cannot be imported; `problems` lists each row's problem in Chinese."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _rows_of(filename: str, content: bytes) -> list[list[str]]:
    if not content:
        raise RosterError(["文件为空。"])
    if content[:2] == b"PK":  # an XLSX file is a ZIP archive
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
            return [
                ["" if v is None else str(v).strip() for v in row]
                for row in sheet.iter_rows(values_only=True, max_row=MAX_ROWS + 2)
            ]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError) as exc:
            raise RosterError([f"无法读取 Excel 文件 {filename}：文件已损坏或不是 .xlsx 格式。"]) from exc
    if filename.lower().endswith((".xls", ".xlsx", ".et", ".numbers")):
        raise RosterError([f"无法读取 {filename}：请另存为 .xlsx 或 CSV 格式后再导入。"])
    text = csv_text(content)
    if text is None:
        raise RosterError([f"无法读取 {filename}：请使用 CSV（UTF-8 或 GBK 编码）或 .xlsx 文件。"])
    if "\x00" in text:
        raise RosterError([f"无法读取 {filename}：这不是文本格式的 CSV 文件。"])
    try:
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise RosterError([f"CSV 格式错误：{exc}"]) from exc


def _count(value: str) -> int:
    number = float(value.replace(",", ""))
    if not number.is_integer():
        raise ValueError
    return int(number)


def parse_roster(filename: str, content: bytes, into: type[Row]) -> list[Row]:
    """Every school of the file as `into` (SchoolSpec for a round's roster), or RosterError with every
    problem found (row numbers as in the file).

    A column whose field `into` may leave empty (RosterSchool's stage and location, for the rosters
    `survey-service analyze` reads) may be missing from the file, and its cells blank."""
    rows = _rows_of(filename, content)
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise RosterError(["文件中没有内容。请下载模板，按模板填写。"])
    optional = {f.name for f in msgspec.structs.fields(into) if not f.required}
    header = [HEADER_ALIASES.get(cell.strip(), "") for cell in rows[0]]
    missing = [(field, title) for field, title in COLUMNS if field not in header and field not in optional]
    if missing:
        # Named as the file names its columns: in English when its header is (csv from another tool).
        recognised = [cell.strip() for cell in rows[0] if cell.strip() in HEADER_ALIASES]
        english = bool(recognised) and all(cell in dict(COLUMNS) for cell in recognised)
        names = [field if english else title for field, title in missing]
        raise RosterError([f"缺少列 {'、'.join(names)}（第 1 行为表头）。请下载模板，按模板填写。"])
    if len(rows) - 1 > MAX_ROWS:
        raise RosterError([f"学校过多：一次最多导入 {MAX_ROWS} 所。"])
    position = {field: header.index(field) for field, _ in COLUMNS if field in header}
    problems: list[str] = []
    schools: list[Row] = []
    first_row_of: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        cells = {field: (row[i] if i < len(row) else "") for field, i in position.items()}
        cells |= {field: "" for field in optional if field not in cells}
        row_problems = _check_row(cells, optional)
        code = cells["code"]
        if code and code in first_row_of:
            row_problems.append(f"学校代码 {code} 与第 {first_row_of[code]} 行重复")
        first_row_of.setdefault(code, number)
        if row_problems:
            problems.append(f"第 {number} 行：{'；'.join(row_problems)}。")
            continue
        values = {
            field: _count(v) if field in COUNT_FIELDS else v for field, v in cells.items() if v or field not in optional
        }
        schools.append(msgspec.convert(values, into))
    if problems:
        raise RosterError(problems)
    if not schools:
        raise RosterError(["文件中没有学校（只有表头）。"])
    return schools


def parse_school(cells: dict[str, str], into: type[Row]) -> Row:
    """One school typed into a form (its fields as COLUMNS names them), checked as a roster row is:
    the school, or RosterError with its problems."""
    optional = {f.name for f in msgspec.structs.fields(into) if not f.required}
    cells = {field: str(cells.get(field, "")).strip() for field, _ in COLUMNS}
    problems = _check_row(cells, optional)
    if problems:
        raise RosterError([f"{problem}。" for problem in problems])
    values = {
        field: _count(v) if field in COUNT_FIELDS else v for field, v in cells.items() if v or field not in optional
    }
    return msgspec.convert(values, into)


SAFE_CODE = re.compile(r"[A-Za-z0-9_-]+")
# Control and invisible formatting characters (Unicode categories Cc and Cf): a name holds none.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def _shown(text: str) -> str:
    """A refused value as an error message may quote it: control characters shown as "?"."""
    return CONTROL.sub("?", text)[:40]


def _check_row(cells: dict[str, str], optional: set[str]) -> list[str]:
    problems = []
    if not 1 <= len(cells["code"]) <= 32:
        problems.append("学校代码不能为空，且不超过 32 个字符")
    elif not SAFE_CODE.fullmatch(cells["code"]):
        # A code names files (QR images, downloads) and goes into links: letters, digits, - and _ only.
        problems.append(f"学校代码“{_shown(cells['code'])}”只能由英文字母、数字、- 和 _ 组成")
    if not 1 <= len(cells["name"]) <= 100:
        problems.append("学校名称不能为空，且不超过 100 个字")
    elif CONTROL.search(cells["name"]):
        problems.append("学校名称中有不可见的控制字符，请删除后重新导入")
    if cells["stage"] not in {s.value for s in Stage} and not (cells["stage"] == "" and "stage" in optional):
        problems.append(f"学段“{cells['stage']}”无效，应为 {'/'.join(s.value for s in Stage)}")
    if cells["location"] not in {loc.value for loc in Location} and not (
        cells["location"] == "" and "location" in optional
    ):
        problems.append(f"城乡类型“{cells['location']}”无效，应为 {'/'.join(loc.value for loc in Location)}")
    for field, title in COLUMNS:
        if field in COUNT_FIELDS:
            try:
                if not 0 <= _count(cells[field]) <= 10_000_000:
                    raise ValueError
            except ValueError:
                problems.append(f"{title}“{cells[field]}”应为 0 或正整数")
    return problems


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([title for _, title in COLUMNS])
    writer.writerows(EXAMPLE_ROWS)
    # With a byte-order mark Excel opens the UTF-8 file with its Chinese intact.
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "学校名单"
    sheet.append([title for _, title in COLUMNS])
    for row in EXAMPLE_ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
