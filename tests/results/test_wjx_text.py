"""Which columns of a 问卷星 export are free text (意见和建议): by wording, or named by the mapping file;
a text column is never taken for a rated item, even when every answer written in it is a scale label."""

from __future__ import annotations

from support.wjx_exports import write_export
from survey_service.results.wjx_input import read_wjx
from survey_service.results.wjx_map import School, map_export, read_map

HEADER = ["序号", "提交答卷时间", "1、您的身份是：", "2、学校", "3、您对本县教育工作是否满意？"]


def table(tmp_path, text_header: str, texts: list[str]):
    rows = [[k + 1, "2026/05/11 08:30:00", "家长", "一小", "满意", t] for k, t in enumerate(texts)]
    path = write_export(tmp_path / "e.csv", [*HEADER, text_header], rows)
    return read_wjx(path.name, path.read_bytes())


SCHOOLS = [School("WQ01", "一小")]


def test_a_suggestion_column_answered_with_scale_labels_is_text_not_a_rated_item(tmp_path):
    mapping = map_export(table(tmp_path, "4、您还有哪些意见和建议？", ["满意", "满意", "(空)"]), SCHOOLS)
    assert [c.label for c in mapping.items] == ["题3"] and [c.label for c in mapping.texts] == ["题4"]
    assert "意见建议（文字题，不参与计算）：题4" in mapping.summary()
    assert all(a.ratings == ("满意",) for a in mapping.answers)


def test_a_rated_question_mentioning_suggestions_stays_rated(tmp_path):
    mapping = map_export(table(tmp_path, "4、您对学校听取家长建议的情况是否满意？", ["满意", "不满意"]), SCHOOLS)
    assert [c.label for c in mapping.items] == ["题3", "题4"] and mapping.texts == []


def test_the_mapping_file_names_a_text_column_its_wording_does_not_show(tmp_path):
    export = table(tmp_path, "4、补充说明", ["多组织家长会", ""])
    assert map_export(export, SCHOOLS).texts == []
    given = read_map("map.toml", b'[items.ids]\n"4" = "suggestions"\n')
    mapping = map_export(export, SCHOOLS, given)
    assert [c.label for c in mapping.texts] == ["题4"] and [c.label for c in mapping.items] == ["题3"]
    assert not any(line.startswith("未使用的列") for line in mapping.summary())
