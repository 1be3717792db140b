"""Links: create them for a round, find what a token opens, and build their public URLs."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from datetime import UTC, datetime

import msgspec
from piccolo.columns.combination import Combinable
from piccolo.query.functions.aggregate import Count

from survey_service.core.cache import REFRESH_FROM, SingleFlightCache
from survey_service.core.errors import LinkNotFound
from survey_service.core.groups import COUNTY_GROUPS, GROUP_LABELS, SCHOOL_GROUPS, Group
from survey_service.distribution.tables import Link
from survey_service.schools.tables import School
from survey_service.seals import service as seals

log = logging.getLogger(__name__)


class LinkContext(msgspec.Struct, kw_only=True, frozen=True):
    """Everything the answer page needs to know about a token, cached per worker."""

    token: str
    link_id: int
    survey_id: int
    survey_title: str
    region: str
    opens_at: datetime
    closes_at: datetime
    school_id: int | None
    school_code: str | None
    school_name: str | None
    group: Group
    questionnaire_id: str
    # Its group is one the round asks one-time access codes of (Survey.access_code_groups).
    code_required: bool = False

    @property
    def group_label(self) -> str:
        return GROUP_LABELS[self.group]


class LinkRow(msgspec.Struct, kw_only=True, frozen=True):
    """One link as exported: what a school prints or sends to its WeChat groups."""

    survey: int
    school_code: str
    school_name: str
    group: Group
    group_label: str
    token: str
    url: str


# What new_token gives: 16 characters of the URL-safe base64 alphabet.
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16}")
# What the link cache may hold, by estimated size (core/cache.py): a county's links and the last
# unknown tokens asked for, never more, however many are tried.
LINK_CACHE_BYTES = 16 * 1024 * 1024
# The open rounds' links are read again this far into their cache time (before REFRESH_FROM, when a
# link in use would be read again on its own).
REREAD_SHARE = REFRESH_FROM - 0.1


def new_token() -> str:
    # 96 random bits: unguessable, and short enough for a dense-free QR code.
    return secrets.token_urlsafe(12)


def plausible_token(token: str) -> bool:
    """Whether `token` could be one new_token gave: any other length or character (a NUL, a byte
    that was not UTF-8, 5,000 characters) is no link, known before any lookup."""
    return TOKEN_SHAPE.fullmatch(token) is not None


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/s/{token}"


async def create_links(survey_id: int, groups: list[Group] | None = None) -> int:
    """One link per school × school-level group, and one per county-level group; idempotent."""
    groups = groups or list(Group)
    existing = {
        (row["school"], row["respondent_group"])
        for row in await Link.select(Link.school, Link.respondent_group).where(Link.survey == survey_id)
    }
    schools = await School.select(School.id, School.code).where(School.survey == survey_id).order_by(School.code)
    wanted = [(s["id"], g) for s in schools for g in SCHOOL_GROUPS if g in groups]
    wanted += [(None, g) for g in COUNTY_GROUPS if g in groups]
    new = [
        Link(survey=survey_id, school=school, respondent_group=group.value, token=new_token())
        for school, group in wanted
        if (school, group.value) not in existing
    ]
    if new:
        await Link.insert(*new)
        # The round's sealed record keeps which school and group each link counts towards.
        codes = {s["id"]: s["code"] for s in schools}
        made = await Link.select(Link.id, Link.school, Link.respondent_group).where(
            Link.token.is_in([link.token for link in new])
        )
        await seals.seal(
            survey_id, links={row["id"]: [codes.get(row["school"], ""), row["respondent_group"]] for row in made}
        )
    return len(new)


async def link_counts(survey_ids: list[int]) -> dict[int, int]:
    """Links of each round (rounds without any left out)."""
    if not survey_ids:
        return {}
    rows = await Link.select(Link.survey, Count()).where(Link.survey.is_in(survey_ids)).group_by(Link.survey)
    return {row["survey"]: row["count"] for row in rows}


async def list_links(survey_id: int, public_url: str) -> list[LinkRow]:
    rows = await (
        Link.select(Link.survey, Link.school.code, Link.school.name, Link.respondent_group, Link.token)
        .where(Link.survey == survey_id)
        .order_by(Link.school.code)
        .order_by(Link._meta.primary_key)
    )
    return [
        LinkRow(
            survey=row["survey"],
            school_code=row["school.code"] or "",
            school_name=row["school.name"] or "全县",
            group=Group(row["respondent_group"]),
            group_label=GROUP_LABELS[Group(row["respondent_group"])],
            token=row["token"],
            url=link_url(public_url, row["token"]),
        )
        for row in rows
    ]


async def load_link_contexts(where: Combinable) -> dict[str, LinkContext]:
    """Token → LinkContext of the links `where` selects, in one query."""
    rows = await (
        Link.select(
            Link._meta.primary_key,
            Link.token,
            Link.survey.id,
            Link.survey.title,
            Link.survey.region,
            Link.survey.opens_at,
            Link.survey.closes_at,
            Link.survey.questionnaires,
            Link.survey.access_code_groups,
            Link.school.id,
            Link.school.code,
            Link.school.name,
            Link.respondent_group,
        )
        .where(where)
        .output(load_json=True)
    )
    contexts = {}
    for row in rows:
        group = Group(row["respondent_group"])
        contexts[row["token"]] = LinkContext(
            token=row["token"],
            link_id=row["id"],
            survey_id=row["survey.id"],
            survey_title=row["survey.title"],
            region=row["survey.region"],
            opens_at=row["survey.opens_at"],
            closes_at=row["survey.closes_at"],
            school_id=row["school.id"],
            school_code=row["school.code"],
            school_name=row["school.name"],
            group=group,
            questionnaire_id=(row["survey.questionnaires"] or {}).get(group.value, ""),
            code_required=group.value in (row["survey.access_code_groups"] or []),
        )
    return contexts


async def load_link_context(token: str) -> LinkContext:
    context = (await load_link_contexts(Link.token == token)).get(token)
    if context is None:
        raise LinkNotFound()
    return context


class LinkCache:
    """Token → LinkContext for a few seconds: the answer path needs no query per request. Unknown
    tokens of a token's shape are cached too, so a flood of bad tokens does not reach the database;
    any other string is refused before the cache (it could be no link) and the cache is bounded in
    bytes, so that such a flood cannot grow it either."""

    def __init__(self, ttl_seconds: float, max_bytes: int = LINK_CACHE_BYTES):
        self._ttl = ttl_seconds
        self._unreadable = False
        self._cache: SingleFlightCache[str, LinkContext | None] = SingleFlightCache(
            _context_or_none, ttl_seconds, max_bytes=max_bytes
        )

    async def warm(self) -> list[LinkContext]:
        """Hold the links of every round not yet closed, read in one query; those links. A worker that
        starts (or restarts) in the middle of a round then answers its first phones without a query
        per link: each took about 2.5 ms of CPU, one at a time through the worker's database
        connection, and a worker's first requests for a county's links waited on them (the answer
        page's p99 in its first 3 s 131-143 ms, now 35-42 ms: each page's first render; about 7 ms
        later on; bench/page_over_time.py)."""
        if self._ttl <= 0:
            return []  # nothing is held
        try:
            contexts = await load_link_contexts(Link.survey.closes_at > datetime.now(UTC))
        except Exception:
            # Not fatal: each link is then read when it is asked for. Logged once until a read succeeds.
            if not self._unreadable:
                log.warning("the links could not be read ahead of the requests", exc_info=True)
            self._unreadable = True
            return []
        self._unreadable = False
        for token, context in contexts.items():
            self._cache.put(token, context)
        return list(contexts.values())

    async def keep_fresh(self) -> None:
        """`warm` again every REREAD_SHARE of the cache time, until cancelled: the open rounds' links
        are then read again all in one query, before any of them is due for its own read ahead
        (core/cache.py), instead of one query each (about 2.5 ms of CPU: a county of 600 links in use
        would spend some 5% of a worker reading them one by one)."""
        if self._ttl <= 0:
            return
        while True:
            await asyncio.sleep(self._ttl * REREAD_SHARE)
            await self.warm()

    async def get(self, token: str) -> LinkContext:
        if not plausible_token(token):
            raise LinkNotFound()
        context = await self._cache.get(token)
        if context is None:
            raise LinkNotFound()
        return context

    def clear(self) -> None:
        self._cache.clear()

    @property
    def size_bytes(self) -> int:
        return self._cache.size_bytes

    def __len__(self) -> int:
        return len(self._cache)


async def _context_or_none(token: str) -> LinkContext | None:
    try:
        return await load_link_context(token)
    except LinkNotFound:
        return None
