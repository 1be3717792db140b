"""The result's notes (analysis.Note: a code, what it is about, a count) as a reader reads them, in
Chinese. The analysis library writes its messages in English for logs and the API; every page,
report and workbook shows these texts instead."""

from __future__ import annotations

from analysis import SurveyResult
from analysis.results import Note
from survey_service.results.tables import group_label


def _subject(note: Note) -> str:
    if not note.subject:
        return "全县"
    if note.subject == "overall":
        return "全县社会认可度"
    return "、".join(group_label(g) for g in note.subject.split(","))


def note_text(note: Note, result: SurveyResult) -> str:
    who = _subject(note)
    count = note.count if note.count is not None else 0
    match note.code:
        case "nchs":
            return (
                f"{who}：所有答卷的认可情况相同（全部认可或全部不认可），方差为 0，"
                "置信区间按美国国家卫生统计中心（NCHS）的规则以答卷人数计算。"
            )
        case "census":
            return f"{who}：各层全部人员均已作答，没有抽样误差。"
        case "zero_variance":
            return f"{who}：方差估计为 0，置信区间按同样人数的简单随机样本计算。"
        case "df_floor":
            return f"{who}：设计自由度不足 1，计算置信区间时按 1 计。"
        case "group_weight_zero":
            return f"{who}有答卷，但在全县认可度中的权重为 0（未计入全县结果）。"
        case "coverage":
            return f"{count} 个层（学校×调查对象）尚无有效答卷：全县结果只代表已应答的层。"
        case "validity":
            v = result.validity
            rate = "" if v is None or v.rate is None else f" {v.rate:.1%}"
            threshold = "70%" if v is None else f"{v.threshold:.0%}"
            return f"有效问卷率{rate}低于国家要求的 {threshold}。"
        case "no_answers":
            return "尚无有效答卷。"
        case "items_skipped":
            return f"{count} 份答卷所用的问卷版本已不在系统中：计入总体结果，不计入分题目结果。"
        case _:
            return "另有一条计算说明，详见结果数据。"


def note_texts(result: SurveyResult) -> list[str]:
    return [note_text(note, result) for note in result.notes]
