"""问卷星-shaped exports made from a table of answers, as a county downloads them (按选项文本下载):
the metadata columns, `N、question` columns or a matrix question's `第N题(row)` columns (and the
other header variants), identity answers in their everyday variants, school names as people type
them (trailing spaces, full-width), `(跳过)`/`(空)`/empty for a skipped item; .xlsx, GB18030 CSV or
UTF-8 CSV with a BOM."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

from support.reference_data import read_csv

ITEMS = [
    "立德树人、思想品德教育",
    "义务教育公平政策",
    "免试就近入学",
    "优质教育资源共享",
    "城乡学校办学条件",
    "教师队伍师德师风",
    "规范办学行为",
    "减轻学生课业负担",
]
IDENTITY = {
    "student": ["学生", "学生"],
    "parent": ["学生家长", "家长"],
    "teacher": ["教师", "老师"],
    "principal": ["校长", "校长"],
    "deputy": ["人大代表", "政协委员"],
    "public": ["其他群众", "群众"],
}
SKIPS = ["(跳过)", "(空)", ""]
START = datetime(2026, 5, 11, 8, 30)
Variant = str  # "question", "matrix", "matrix_paren", "dash"


def school_text(code: str, name: str, serial: int) -> str:
    """How a respondent's answer names the school: the name, with trailing spaces, full-width, or
    the roster code."""
    match serial % 4:
        case 0:
            return name + "  "
        case 1:
            return name.replace("乌恰县", "乌恰县\u3000")  # an ideographic space inside
        case 2:
            return code.translate({ord(c): ord(c) + 0xFEE0 for c in code})  # ＷＪ０１
        case _:
            return name


def wjx_table(variant: Variant = "question", answers: list[dict[str, str]] | None = None):
    """(header, rows) of an export of tests/reference/wjx_answers.csv (or `answers` of that shape)."""
    answers = answers if answers is not None else read_csv("wjx_answers.csv")
    names = {row["code"]: row["name"] for row in read_csv("wjx_roster.csv")}
    header = [
        "序号",
        "提交答卷时间",
        "所用时间",
        "来源",
        "来源详情",
        "来自IP",
        "1、您的身份是：",
        "2、您（或您孩子）所在的学校：",
    ]
    if variant == "question":
        header += [f"{3 + j}、您对本县{text}的情况是否满意？" for j, text in enumerate(ITEMS)]
    elif variant == "matrix":
        header += [f"第3题({text})" for text in ITEMS]
    elif variant == "matrix_paren":
        header += [f"3({text})" for text in ITEMS]
    else:
        header += [f"3、请您评价以下各方面—{text}" for text in ITEMS]
    after = 3 + len(ITEMS) if variant == "question" else 4  # the questions after the rated ones
    header += [f"{after}、您了解本次调查的渠道（多选）", f"{after + 1}、您对本县义务教育工作的意见和建议："]
    rows = []
    for k, row in enumerate(answers):
        serial = int(row["serial"])
        school = row["school"]
        items = [row[f"item{j + 1}"] or SKIPS[(serial + j) % 3] for j in range(len(ITEMS))]
        rows.append(
            [
                serial,
                START + timedelta(minutes=7 * k, seconds=serial),
                f"{row['seconds']}秒",
                "微信",
                "N/A",
                f"223.104.{serial % 250}.{k % 250}(新疆-克孜勒苏)",
                IDENTITY[row["group"]][serial % 2],
                school_text(school, names.get(school, school), serial) if school else "(跳过)",
                *items,
                "学校通知┋班级微信群" if serial % 3 else "学校通知",
                "希望多开展课后服务" if serial % 5 == 0 else "(空)",
            ]
        )
    return header, rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y/%m/%d %H:%M:%S")
    return str(value)


def write_export(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """.xlsx (a workbook as 问卷星 writes it: dates as dates, 序号 as numbers), or a CSV: GB18030 for
    a name ending in .gbk.csv, else UTF-8 with a BOM."""
    if path.suffix == ".xlsx":
        book = Workbook()
        sheet = book.active
        sheet.append(list(header))
        for row in rows:
            sheet.append(list(row))
        book.save(path)
        return path
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_text(v) for v in row] for row in rows])
    encoding = "gb18030" if path.name.endswith(".gbk.csv") else "utf-8-sig"
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def wjx_export(path: Path, variant: Variant = "question", answers: list[dict[str, str]] | None = None) -> Path:
    return write_export(path, *wjx_table(variant, answers))


def county_export(path: Path, questionnaire, schools: Sequence[tuple[str, str]], seed: int = 7) -> Path:
    """An export of a county's 社会卷 on 问卷星 (家长 at every school, 人大代表/政协委员, 其他群众), its
    questions worded as `questionnaire`'s rated items: what `import` takes into a round."""
    import random

    chance = random.Random(seed)
    rated = questionnaire.rated_items
    header = [
        "序号",
        "提交答卷时间",
        "所用时间",
        "来源",
        "来源详情",
        "来自IP",
        "1、您的身份是：",
        "2、您孩子就读的学校：",
    ]
    header += [f"{3 + j}、{item.text}" for j, item in enumerate(rated)]
    labels = ["满意", "比较满意", "基本满意", "不满意", "不了解"]
    rows: list[list[object]] = []
    plan = [("parent", code, name) for code, name in schools for _ in range(chance.randint(2, 6))]
    plan += [("deputy", "", "")] * 9 + [("public", "", "")] * 12
    chance.shuffle(plan)
    for k, (group, code, name) in enumerate(plan):
        serial = k + 1
        quality = 0.9 if group != "public" else 0.7
        items = [
            chance.choice(SKIPS)
            if chance.random() < 0.04
            else labels[4]
            if chance.random() < 0.08
            else chance.choice(labels[:3])
            if chance.random() < quality
            else labels[3]
            for _ in rated
        ]
        if serial == 5:
            items = [labels[4]] * len(rated)  # knows nothing of any item: returned, not counted
        rows.append(
            [
                serial,
                START + timedelta(minutes=3 * k),
                f"{chance.randint(40, 400)}秒",
                "微信",
                "N/A",
                "(新疆-克孜勒苏)",
                IDENTITY[group][serial % 2],
                school_text(code, name, serial) if code else "(跳过)",
                *items,
            ]
        )
    return write_export(path, header, rows)


def suggestion_export(
    path: Path,
    questionnaire,
    schools: Sequence[str],
    said: Sequence[str],
    text_header: str = "您对本县义务教育工作还有哪些意见和建议？",
) -> Path:
    """An export of 家长 at `schools` (in turn), every rated item 满意, one 答卷 per entry of `said`: its
    free-text cell, under a last question headed `N、text_header`."""
    rated = questionnaire.rated_items
    header = [
        "序号",
        "提交答卷时间",
        "所用时间",
        "来源",
        "来源详情",
        "来自IP",
        "1、您的身份是：",
        "2、您孩子就读的学校：",
    ]
    header += [f"{3 + j}、{item.text}" for j, item in enumerate(rated)]
    header.append(f"{3 + len(rated)}、{text_header}")
    rows = [
        [k + 1, START + timedelta(days=k), "95秒", "微信", "N/A", "", "学生家长", schools[k % len(schools)]]
        + ["满意"] * len(rated)
        + [text]
        for k, text in enumerate(said)
    ]
    return write_export(path, header, rows)
