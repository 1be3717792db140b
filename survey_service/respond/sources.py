"""Where an answer came from (Response.source): answered online, or brought in from elsewhere."""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    online = ""  # the answer page or the JSON API
    wjx = "wjx"  # imported from a 问卷星 (wjx.cn) export
    paper = "paper"  # a paper questionnaire entered in the console


SOURCE_LABELS = {Source.online: "在线", Source.wjx: "问卷星导入", Source.paper: "纸质问卷"}
