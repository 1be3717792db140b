"""迎检预判 in words: the chance of passing the national check (analysis/national_check.py) as the results
page, the printed report, `report`/`analyze --format md` and the workbook's 迎检预判 sheet show it. One
source for all of them; Chinese only."""

from __future__ import annotations

import dataclasses

from analysis import SurveyResult
from analysis.national_check import LIKELY_FAIL, LIKELY_PASS
from analysis.planning import MINIMUM_BELOW_POPULATION, NATIONAL_MINIMUM, NATIONAL_RATE
from analysis.results import NationalCheck
from survey_service.results.tables import Column, Table, group_label

TITLE = "迎检预判"
VERDICT_WORDS = {"likely_pass": "很可能通过", "at_risk": "存在风险", "likely_fail": "很可能不通过"}
VERDICT_RULE = (
    f"通过概率不低于 {LIKELY_PASS:.0%} 为“很可能通过”；低于 {LIKELY_FAIL:.0%} 为“很可能不通过”"
    "（不通过的可能已大于通过）；其间为“存在风险”。"
)


@dataclasses.dataclass(frozen=True)
class NationalCheckText:
    probability: str  # "93%"
    words: str  # 很可能通过 / 存在风险 / 很可能不通过
    verdict_code: str
    summary: str  # one sentence
    sample: str  # the national sample assumed, per group
    sample_size: int
    sample_rows: list[tuple[str, str, str]]  # (group, respondents, weight)
    safe_rate: str  # "86.0%"
    safe: str  # the 90%-safe rate in a sentence
    rule: str
    assumptions: list[str]


def probability_text(p: float) -> str:
    """A percentage a reader can take at its word: never 100% or 0% for a chance that is not certain."""
    if p >= 0.995 and p < 1:
        return "> 99%"
    if 0 < p < 0.005:
        return "< 1%"
    return f"{p:.0%}"


def probability_phrase(p: float) -> str:
    """The chance inside a sentence: 约为 93%, 超过 99%, 不足 1%."""
    text = probability_text(p)
    return {"> 99%": "超过 99%", "< 1%": "不足 1%"}.get(text, f"约为 {text}")


def _points(se: float) -> str:
    return f"±{1.96 * se * 100:.1f} 个百分点"


def _sample_text(check: NationalCheck) -> str:
    parts = "、".join(f"{group_label(g.group)} {g.sample} 人" for g in check.groups if g.sample)
    return f"{parts}（共 {check.sample_size} 人）"


def _sample_size_rule(check: NationalCheck) -> str:
    rule = (
        f"按国家规定，样本量为常住人口的 {NATIONAL_RATE * 1000:.1f}‰，常住人口不足 {MINIMUM_BELOW_POPULATION // 10_000} 万的县"
        f"不少于 {NATIONAL_MINIMUM} 人"
    )
    if check.minimum_assumed:
        return f"{rule}。未给出常住人口，按国家最低样本量 {NATIONAL_MINIMUM} 人估算（如常住人口超过 40 万，样本更大，预判会略有不同）。"
    return f"{rule}：常住人口 {check.resident_population:,} 人，国家样本 {check.sample_size} 人。"


def _weighting_text(check: NationalCheck) -> str:
    if check.weighting == "round":
        return "国家评估组的全县认可度按本轮的群体权重把各群体的认可度加权合计。"
    return "国家评估组的全县认可度为其全部答卷人认可度的平均值（各群体按答卷人数计权，家长约占一半）。"


def _design_effect_text(check: NationalCheck) -> str:
    if check.design_effect is None:
        return "国家样本的设计效应取本轮各群体的设计效应（不小于 1）。"
    if check.design_effect == 1:
        return "国家样本在各群体内按人数比例分布到各校，按简单随机抽样计算（设计效应 1）。"
    return f"国家样本的设计效应取 {check.design_effect:g}。"


def assumptions(check: NationalCheck) -> list[str]:
    lines = [
        f"{_sample_size_rule(check)}家长不少于一半，其余群体大致均等，且不超过该群体的总人数：{_sample_text(check)}。",
        "国家评估组与本轮的认可度算法相同：每位答卷人的认可度为其评价题中选择“认可”类选项的比例（“不了解”不计入），"
        + _weighting_text(check),
        f"全县各群体的真实认可度未知，以本轮的估计值为准，并计入本轮的抽样误差（{_points(check.se_round)}）。",
        "国家样本自各群体的全部人员中随机抽取，与本轮答卷相互独立；每位答卷人认可度的离散程度取本轮的估计；"
        f"{_design_effect_text(check)}国家样本的抽样误差为 {_points(check.se_national)}。",
        f"按上述两项误差合计（{_points(check.se)}），用正态近似计算国家评估组的认可度不低于目标 {check.target:.0%} 的概率。",
        "假设国家评估组收到的答卷同样真实有效，问卷题目与本轮一致；未考虑调查时间、宣传等其他差异。",
    ]
    if check.absent_groups:
        absent = "、".join(group_label(g) for g in check.absent_groups)
        lines.append(f"本轮没有{absent}的答卷，预判未计入这些群体；国家评估组如调查他们，结果可能不同。")
    return lines


def national_check_text(result: SurveyResult) -> NationalCheckText | None:
    check = result.national_check
    if check is None:
        return None
    words = VERDICT_WORDS[check.verdict]
    probability = probability_text(check.probability)
    target = f"{check.target:.0%}"
    return NationalCheckText(
        probability=probability,
        words=words,
        verdict_code=check.verdict,
        summary=(
            f"按本轮结果推算，国家评估组抽样调查的社会认可度不低于 {target} 的概率{probability_phrase(check.probability)}。"
            f"国家评估组的认可度预计为 {check.expected:.1%}（{_points(check.se)}）。"
        ),
        sample=_sample_text(check),
        sample_size=check.sample_size,
        sample_rows=[(group_label(g.group), f"{g.sample}", f"{g.weight:.1%}") for g in check.groups if g.sample],
        safe_rate=f"{check.safe_rate:.1%}",
        safe=(
            f"全县真实认可度至少达到 {check.safe_rate:.1%}，国家评估组的抽样结果才有 {check.safe_level:.0%} 的把握不低于 {target}"
            f"（假设各群体认可度同幅升降）；以本轮的精度，本轮估计值需达到 {check.safe_estimate:.1%}。"
        ),
        rule=VERDICT_RULE,
        assumptions=assumptions(check),
    )


def markdown_section(result: SurveyResult) -> list[str]:
    """The report's 迎检预判 section (nothing without answers)."""
    text = national_check_text(result)
    if text is None:
        return []
    lines = [f"## {TITLE}", "", f"**{text.words}**：{text.summary}", "", text.rule, "", f"90% 把握线：{text.safe}", ""]
    lines += ["| 调查对象 | 国家样本（人） | 在国家评估组认可度中的权重 |", "|---|---|---|"]
    lines += [f"| {group} | {n} | {weight} |" for group, n, weight in text.sample_rows]
    return [*lines, "", "假设：", "", *[f"{k}. {line}" for k, line in enumerate(text.assumptions, start=1)], ""]


def national_check_tables(result: SurveyResult) -> list[Table]:
    """The workbook's 迎检预判 sheet (none without answers): the figures (numbers stay numbers), the
    national sample and the assumptions."""
    check, text = result.national_check, national_check_text(result)
    if check is None or text is None:
        return []
    columns = [Column("项目"), Column("比例", "percent"), Column("人数", "integer"), Column("说明")]
    rows: list[list[object]] = [
        ["通过国家评估组抽样调查的概率", check.probability, "", f"{text.words}（{text.rule}）"],
        ["国家评估组认可度的预计值", check.expected, "", f"目标 {check.target:.0%}"],
        ["预计值的标准误（合计）", check.se, "", "本轮抽样误差与国家样本抽样误差合计"],
        ["其中：本轮的抽样误差（标准误）", check.se_round, "", ""],
        ["其中：国家样本的抽样误差（标准误）", check.se_national, "", ""],
        ["90% 把握所需的全县真实认可度", check.safe_rate, "", text.safe],
        ["以本轮精度，本轮估计值需达到", check.safe_estimate, "", ""],
        ["国家样本量", "", check.sample_size, text.sample],
    ]
    rows += [
        [f"国家样本：{group_label(g.group)}", g.weight, g.sample, "比例为该群体在国家评估组认可度中的权重"]
        for g in check.groups
    ]
    rows += [[f"假设 {k}", "", "", line] for k, line in enumerate(text.assumptions, start=1)]
    return [Table(TITLE, columns, rows)]
