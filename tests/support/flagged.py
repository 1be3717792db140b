"""Flagged answers (under planned_answers' COLUMNS) stored straight into the database with their
tallies, for the review's tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from support.helpers import fetch
from support.planned_answers import QUESTIONNAIRES
from survey_service.respond.answers import check_answers

SOCIAL = QUESTIONNAIRES["social"]


def parent_rows(link, count: int, flags: str, *, device: str | None, option: str = "satisfied", start=None):
    """`count` parent answers on one link, every rated item `option`, a minute apart."""
    scored = check_answers(SOCIAL, {item.id: option for item in SOCIAL.rated_items})
    start = start or datetime.now(UTC) - timedelta(hours=2)
    return [
        [
            link.survey,
            link.link_id,
            link.school_id,
            "parent",
            SOCIAL.id,
            SOCIAL.version,
            "{}",
            scored.recognition,
            scored.score,
            scored.choices,
            start + timedelta(minutes=k),
            40,
            uuid.uuid4().hex,
            True,
            "",
            flags,
            device,
            "net" if device is None else None,
            "agent" if device is None else None,
        ]
        for k in range(count)
    ]


class ParentLink(NamedTuple):
    survey: int
    link_id: int
    school_id: int


async def parent_link(settings, demo_links, school_code: str = "WQ01") -> ParentLink:
    """A school's parents' link, with its database ids."""
    token = next(link for link in demo_links if link.group == "parent" and link.school_code == school_code).token
    [row] = await fetch(settings, "SELECT survey, id, school FROM link WHERE token = ?", token)
    return ParentLink(row["survey"], row["id"], row["school"])
