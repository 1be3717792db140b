"""The Fay–Herriot school estimate (`SchoolRow.shrunk`) as the page, the report and the workbook name and
explain it: one home for its column titles, its cells and its plain-Chinese method text."""

from __future__ import annotations

from analysis import SurveyResult
from analysis.results import SchoolRow, ShrunkEstimate
from survey_service.results.tables import Column

SHRUNK_LABEL = "调整后认可度"
DIRECT_LABEL = "认可度（直接估计）"
WEIGHT_LABEL = "本校答卷所占比重"

RANKING_NOTE = (
    "按调整后认可度从高到低排名。调整后认可度把本校的调查结果与全县学校的平均水平结合起来：答卷越少，"
    "本校结果越不稳定，越向全县平均靠拢；答卷多的学校基本保持本校结果。本校的调查结果（直接估计）及其置信区间列在旁边。"
)
NO_DIFFERENCE = (
    "本轮各校调查结果之间的差异没有超出抽样误差的范围：调整后各校认可度相同（均为全县学校平均水平），名次并列，"
    "不宜据此区分学校的高低。"
)


def _model(result: SurveyResult) -> ShrunkEstimate | None:
    return next((s.shrunk for s in result.schools if s.shrunk is not None), None)


def ranking_note(result: SurveyResult) -> str:
    """How the schools are ranked; and, where the model finds no difference between schools, that too."""
    model = _model(result)
    return RANKING_NOTE + (NO_DIFFERENCE if model is not None and model.model_variance == 0 else "")


def shrunk_columns(level: str) -> list[Column]:
    return [
        Column(SHRUNK_LABEL, "percent"),
        Column(f"调整后{level}区间下限", "percent"),
        Column(f"调整后{level}区间上限", "percent"),
        Column(WEIGHT_LABEL, "percent"),
    ]


def shrunk_cells(row: SchoolRow) -> list[object]:
    s = row.shrunk
    return [""] * 4 if s is None else [s.estimate, s.ci_low, s.ci_high, s.weight]


def method_paragraphs(result: SurveyResult) -> list[str]:
    """What the adjusted figure is, why small schools move toward the county mean, and that the direct
    figure is kept; empty when the round has no adjusted figures (too few schools)."""
    model = _model(result)
    if model is None:
        return []
    spread = (
        f"本轮估计为约 {model.model_variance**0.5 * 100:.1f} 个百分点的标准差"
        if model.model_variance > 0
        else "本轮估计为 0，即各校结果的差异没有超出抽样误差，各校调整后都等于全县平均"
    )
    level = f"{result.confidence_level:.0%}"
    return [
        "学校排名采用“调整后认可度”。一所学校如果只有几份答卷，它的认可度很不稳定：例如 6 份答卷全部认可，"
        "调查结果是 100%，但该校的真实水平可能只有八成多。直接按调查结果排名，答卷少的学校容易偶然排在最前或最后。",
        "调整后认可度采用小区域估计的常用方法（Fay–Herriot 模型，美国人口普查局估计各县贫困率也用此方法）："
        f"把本校的调查结果与全县学校的平均水平（本轮为 {model.synthetic:.1%}）加权平均。"
        "本校结果的抽样误差越大（答卷越少），全县平均所占的比重越大，调整后的数值越接近全县平均；"
        "答卷多、误差小的学校，本校结果所占比重接近 100%，调整后基本不变。比重由数据决定："
        f"比较学校之间真实差异的大小（用限制最大似然法估计；{spread}）与各校自身的抽样误差。",
        "各校的调查结果（直接估计）及其置信区间保留在表中，供对照；全县和各群体的认可度、是否达标的结论都只用调查结果，"
        f"不受此调整影响。调整后的 {level} 区间按预测均方误差（Prasad–Rao 方法）计算。某校答卷全部认可时，"
        "按调查结果算出的抽样误差为 0，不能据此判断它的可靠程度，改用全县各校每份答卷的平均方差除以该校答卷数；"
        "应答过少、不单独显示的学校不参与此计算。",
    ]
