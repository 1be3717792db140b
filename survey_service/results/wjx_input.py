"""A 问卷星 (wjx.cn) export as downloaded (按选项文本下载), .xlsx or .csv, read into its columns.

问卷星 writes one row per 答卷: leading metadata (`序号`, `提交答卷时间`, `所用时间`, `来源`, `来源详情`,
`来自IP`, and in some exports `总分`, `用户ID`, `微信昵称`, …), then one column per question headed
`N、question text`, one per row of a matrix question headed `第N题(row label)` (or `N(row label)`,
or `N、text—row label`), the chosen options' texts in the cells, `(跳过)` or `(空)` (or nothing) for a
question skipped, and `┋` between the options of a multiple-choice answer. This module reads that
layout; wjx_map.py decides what each column means.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
import zipfile
from datetime import date, datetime, time
from pathlib import Path

from survey_service.core.csv_text import csv_text
from survey_service.core.errors import SurveyServiceError

# How many leading rows may come before the header (a title line some exports add).
HEADER_SEARCH_ROWS = 5
MAX_ROWS = 200_000
MAX_COLUMNS = 1_000

METADATA = {
    "序号": "serial",
    "答卷编号": "serial",
    "答题序号": "serial",
    "提交答卷时间": "submitted_at",
    "提交时间": "submitted_at",
    "答题时间": "submitted_at",
    "所用时间": "seconds",
    "答题时长": "seconds",
    "来源": "other",
    "来源详情": "other",
    "来自ip": "other",
    "ip": "other",
    "ip地址": "other",
    "总分": "other",
    "用户id": "other",
    "微信昵称": "other",
    "昵称": "other",
    "填写设备": "other",
    "自定义字段": "other",
    "外部用户id": "other",
    "答题设备": "other",
}

SKIPPED = {"", "(跳过)", "(空)", "跳过", "空", "-3", "(-3)"}
MULTIPLE = "┋"

_QUESTION = re.compile(r"^(\d+)\s*[、.．]\s*(.+)$", re.S)
_MATRIX = (
    re.compile(r"^第\s*(\d+)\s*题\s*[(（](.+)[)）]$", re.S),  # 第3题(教学质量)
    re.compile(r"^(\d+)\s*[(（](.+)[)）]$", re.S),  # 3(教学质量)
)
_MATRIX_DASH = re.compile(r"^(\d+)\s*[、.．]\s*(.+?)\s*[—–]+\s*(.+)$", re.S)  # 3、text—教学质量


class WjxError(SurveyServiceError):
    code = "invalid_wjx"
    message = "问卷星导出文件有误。"


def normalised(text: str) -> str:
    """A cell as compared: full-width folded to half-width (NFKC), spaces inside and around dropped."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def skipped(text: str) -> bool:
    return normalised(text) in SKIPPED


@dataclasses.dataclass(frozen=True)
class WjxColumn:
    index: int
    header: str
    # "serial", "submitted_at", "seconds", "other" (metadata), "question", or "unknown".
    kind: str
    number: int | None = None  # the question's number (题号)
    text: str = ""  # the question's text; for a matrix row, "question text—row label" or the row label
    row_label: str | None = None  # a matrix question's row

    @property
    def label(self) -> str:
        """How the column is named in messages: 题3 or 题3(教学质量)."""
        if self.number is None:
            return self.header
        return f"题{self.number}" + (f"({self.row_label})" if self.row_label else "")


@dataclasses.dataclass
class WjxTable:
    name: str  # the file's name, for messages
    columns: list[WjxColumn]
    # (line in the file or worksheet row, the cells as text, one per column)
    rows: list[tuple[int, list[str]]]

    def column(self, kind: str) -> WjxColumn | None:
        return next((c for c in self.columns if c.kind == kind), None)

    def questions(self) -> list[WjxColumn]:
        return [c for c in self.columns if c.kind == "question"]


def looks_like_wjx(path: Path, content: bytes | None = None) -> bool:
    """A workbook, or a CSV whose header has a 问卷星 question column (N、text) or 序号 and
    提交答卷时间: what `analyze` reads as a 问卷星 export rather than its own CSV."""
    content = path.read_bytes() if content is None else content
    if content[:4] == b"PK\x03\x04":
        return True
    text = csv_text(content[:65536]) or csv_text(content)
    if text is None:
        return False
    first = next(csv.reader(io.StringIO(text.splitlines()[0] if text else "")), [])
    headers = [normalised(h) for h in first]
    return any(_QUESTION.match(h) or any(p.match(h) for p in _MATRIX) for h in headers) or (
        "序号" in headers and "提交答卷时间" in headers
    )


def read_wjx(name: str, content: bytes) -> WjxTable:
    """The export's columns and rows; WjxError naming the file for anything unreadable."""
    grid = _xlsx_rows(name, content) if content[:4] == b"PK\x03\x04" else _csv_rows(name, content)
    start = next(
        (i for i, (_, cells) in enumerate(grid[:HEADER_SEARCH_ROWS]) if _header_like(cells)),
        None,
    )
    if start is None:
        raise WjxError(
            f"{name}：找不到问卷星导出的表头（应有“序号”“提交答卷时间”列和“1、题目”形式的题目列）。"
            "请从问卷星“下载答卷数据”选择“按选项文本下载”。"
        )
    header = [h.strip() for h in grid[start][1]]
    while header and not header[-1]:
        header.pop()
    if len(header) > MAX_COLUMNS:
        raise WjxError(f"{name}：列数过多（{len(header)} 列，最多 {MAX_COLUMNS} 列）。")
    columns = [_classify(i, h) for i, h in enumerate(header)]
    rows = []
    for line, cells in grid[start + 1 :]:
        cells = [c.strip() for c in cells[: len(header)]] + [""] * max(0, len(header) - len(cells))
        if any(not skipped(c) for c in cells):
            rows.append((line, cells))
    if not rows:
        raise WjxError(f"{name}：没有答卷数据行。")
    if len(rows) > MAX_ROWS:
        raise WjxError(f"{name}：答卷过多（{len(rows)} 行，最多 {MAX_ROWS} 行）。")
    return WjxTable(name=name, columns=columns, rows=rows)


def _header_like(cells: list[str]) -> bool:
    return any(_classify(0, c).kind in ("serial", "question") for c in cells)


def _classify(index: int, header: str) -> WjxColumn:
    key = normalised(header)
    kind = METADATA.get(key.lower())
    if kind is not None:
        return WjxColumn(index, header, kind)
    for pattern in _MATRIX:
        if found := pattern.match(key):
            row = found.group(2)
            return WjxColumn(index, header, "question", int(found.group(1)), row, row_label=row)
    if found := _MATRIX_DASH.match(header.strip()):
        number, text, row = int(found.group(1)), found.group(2).strip(), found.group(3).strip()
        return WjxColumn(index, header, "question", number, f"{text}—{row}", row_label=row)
    if found := _QUESTION.match(header.strip()):
        return WjxColumn(index, header, "question", int(found.group(1)), found.group(2).strip())
    return WjxColumn(index, header, "unknown")


def _csv_rows(name: str, content: bytes) -> list[tuple[int, list[str]]]:
    text = csv_text(content)
    if text is None:
        raise WjxError(f"{name}：无法识别文件编码（应为 UTF-8 或 GB18030/GBK）。")
    reader = csv.reader(io.StringIO(text))
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise WjxError(f"{name} 第 {reader.line_num} 行：无法读取（{exc}）。") from None


def _xlsx_rows(name: str, content: bytes) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise WjxError(f"{name}：不是可读取的 Excel 文件（{type(exc).__name__}）。") from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
                raise WjxError(f"{name}：答卷过多（最多 {MAX_ROWS} 行）。")
            rows.append((number, [_cell_text(v) for v in values[: MAX_COLUMNS + 1]]))
        return rows
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A cell as 问卷星 shows it in its CSV download."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y/%m/%d %H:%M:%S")
    if isinstance(value, date):
        return value.strftime("%Y/%m/%d")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
