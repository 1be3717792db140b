"""The respondent's operations: open a form, submit it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import msgspec

from survey_service.core.cache import SingleFlightCache
from survey_service.core.errors import (
    DuplicateSubmission,
    InvalidAccessCode,
    InvalidAnswers,
    NotFound,
    RoundSealed,
    SurveyEnded,
    SurveyNotStarted,
    TooManyRequests,
)
from survey_service.core.network import parse_networks
from survey_service.core.settings import Settings
from survey_service.distribution.service import LinkCache, LinkContext
from survey_service.questionnaire import Questionnaire
from survey_service.respond.access import ACCESS_CODE_FIELD, USED, check_code, nonce_stored
from survey_service.respond.answers import ScoredAnswers, check_answers
from survey_service.respond.limits import Attempt, submission_limits
from survey_service.respond.nonce import check_nonce, issue_nonce
from survey_service.respond.quality import CHURN_WINDOW_SECONDS, Flag, answer_flags, join_flags, median
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.signals import signal_hashes
from survey_service.respond.sources import Source
from survey_service.respond.tables import Response
from survey_service.surveys.tables import Survey

# How many recent answers give the median time the `speeder` flag compares with, and how often
# each worker refreshes it.
MEDIAN_SAMPLE = 500
# With fewer timed answers than this there is no median yet (only speeding's per-item floor applies):
# a handful of early answers says little about the round's pace.
MEDIAN_MIN_SAMPLE = 20
MEDIAN_REFRESH_SECONDS = 60


class OpenForm(msgspec.Struct, kw_only=True, frozen=True):
    link: LinkContext
    questionnaire: Questionnaire
    nonce: str


class EarlierAnswers(msgspec.Struct, kw_only=True, frozen=True):
    """How many answers one device gave on one link in its round, and when the latest was submitted."""

    count: int
    latest: datetime | None = None


class Sender(msgspec.Struct, kw_only=True, frozen=True):
    """What the request says about who sent it; only ever stored as salted hashes."""

    # The id in a device cookie this server signed (None without one, or with a forged one), and
    # when that cookie was issued (Unix seconds).
    device_id: str | None = None
    device_issued: int | None = None
    address: str | None = None
    agent: str | None = None
    # Accept-Language and the client hints (Sec-CH-UA, -Mobile, -Platform), with the User-Agent the
    # browser's signature.
    language: str | None = None
    hints: str | None = None


class AnswerSink(Protocol):
    """Where a checked answer goes: the ledger's response writer (ledger/writer.py), given to the
    service by create_app. True once committed, False if its nonce (or its access code) was stored
    before."""

    async def write(self, row: AnswerRow) -> bool: ...

    async def write_many(self, rows: list[AnswerRow]) -> list[bool | Exception]:
        """Rows that arrive together (an import): each one's outcome, in order (an exception: not stored)."""
        ...


class RespondService:
    def __init__(
        self,
        settings: Settings,
        links: LinkCache,
        questionnaires: dict[str, Questionnaire],
        writer: AnswerSink,
    ):
        self.settings = settings
        self.links = links
        self.questionnaires = questionnaires
        self.writer = writer
        self.zone = ZoneInfo(settings.timezone)
        self.limits = submission_limits(settings.redis_url)
        self.trusted_proxies = parse_networks(settings.trusted_proxies)
        self.median_seconds = SingleFlightCache(_median_seconds, MEDIAN_REFRESH_SECONDS)

    async def open_form(self, token: str, device_id: str | None = None) -> OpenForm:
        """The link's form, its nonce bound to `device_id`: the device cookie the page sets or was
        sent (public/sender.py)."""
        link = await self.links.get(token)
        self.ensure_open(link)
        return OpenForm(
            link=link,
            questionnaire=self.questionnaire_for(link),
            nonce=issue_nonce(self.settings.secret, token, device_id=device_id),
        )

    async def close(self) -> None:
        await self.limits.close()
        # Reads ahead still under way (core/cache.py) are cancelled, not left pending as the loop ends.
        self.links.clear()
        self.median_seconds.clear()

    def questionnaire_for(self, link: LinkContext) -> Questionnaire:
        return self.questionnaires[link.questionnaire_id]

    def ensure_open(self, link: LinkContext, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        if now < link.opens_at:
            raise SurveyNotStarted(f"本次调查尚未开始，将于 {self.local(link.opens_at)} 开放，请到时再填写。")
        if now >= link.closes_at:
            raise SurveyEnded(
                f"本次调查已于 {self.local(link.closes_at)} 结束"
                f"（开放时间 {self.local(link.opens_at)} 至 {self.local(link.closes_at)}），感谢您的关注。"
            )

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y年%m月%d日 %H:%M")

    async def earlier_answers(self, link: LinkContext, device_id: str | None) -> EarlierAnswers:
        """The answers this device (its cookie) has already given on this link in this round: what the
        answer page tells a phone that opens its link again. By the (device_hash, survey) index."""
        device_hash = signal_hashes(self.settings.secret, link.survey_id, device_id, None, None).device_hash
        if device_hash is None:
            return EarlierAnswers(count=0)
        rows = await Response.select(Response.submitted_at).where(
            Response.device_hash == device_hash, Response.survey == link.survey_id, Response.link == link.link_id
        )
        return EarlierAnswers(count=len(rows), latest=max((row["submitted_at"] for row in rows), default=None))

    async def submit(
        self,
        token: str,
        nonce: str,
        given: Mapping[str, object],
        sender: Sender,
        access_code: str | None = None,
    ) -> None:
        """Validate and store one questionnaire; returns only after it is committed. A link whose group
        needs a one-time access code takes `access_code` (typed as printed, any case, dashes or not)."""
        link = await self.links.get(token)
        self.ensure_open(link)
        checked = check_nonce(
            self.settings.secret, token, nonce, self.settings.form_max_age_seconds, device_id=sender.device_id
        )
        # A form issued with a device cookie that came back without it: a browser keeping no cookie,
        # or sending a made-up one (each answer would look like a new phone).
        dropped = checked.bound and sender.device_id is None
        await self._store(link, nonce, checked.seconds, given, sender, access_code=access_code, cookie_dropped=dropped)

    async def submit_simulated(
        self,
        token: str,
        key: str,
        given: Mapping[str, object],
        sender: Sender,
        *,
        submitted_at: datetime,
        seconds: int,
        access_code: str | None = None,
    ) -> None:
        """Store an answer that did not come from a form (the demo's simulated respondents): `key`
        stands for the form's nonce (any string unique to this answer); when it was submitted and how
        long it took are given, not read off a signed nonce and the clock. Otherwise exactly as
        `submit`: checked, scored, limited, flagged, sealed and counted by the same writer."""
        link = await self.links.get(token)
        self.ensure_open(link, submitted_at)
        await self._store(link, key, seconds, given, sender, submitted_at, access_code=access_code)

    async def submit_external(
        self,
        token: str,
        key: str,
        given: Mapping[str, object],
        *,
        source: Source,
        submitted_at: datetime,
        seconds: int | None = None,
    ) -> bool:
        """Store one answer that did not come from a web form: a 问卷星 export's row (Source.wjx) or a
        paper questionnaire entered in the console (Source.paper). True once committed; False when an
        answer with this `key` is stored already (importing or entering it again stores nothing).

        - `token`: the link of the school × group it belongs to (its round, school, group and
          questionnaire follow from it, as for an online answer).
        - `key`: stands for the form's nonce, unique across the whole database (Response.nonce, at
          most 64 characters): e.g. "wjx:<round>:<序号>:<digest>" or "paper:<round>:<form number>".
        - `given`: {item id: option code or text}, as the answer page posts; checked and scored as any
          answer (InvalidAnswers naming the items), except that an item left blank is no error even
          where the questionnaire requires it (a paper form or a 问卷星 row may skip one).
        - `submitted_at`: when it was answered (问卷星's 提交答卷时间, the paper form's date or the
          entry time); `seconds`: how long it took, if known (问卷星's 所用时间), else None.

        Stored with its `source`, sealed into the hash chain (the source is part of what it hashes)
        and counted in the tallies by the same writer as every answer. It carries no device, network
        or browser signal and no access code, so it gets no device flag and takes no rate limit; the
        answer-level flags (straight-lining, and speeding when `seconds` is given) apply as online.

        The round's open window does not apply: answers collected elsewhere are often brought in
        after it closed, or were collected before it opened. What is refused (RoundSealed) is a round
        that has closed and whose results were exported for the inspection file (Survey.exported_at):
        a figure already handed in must not change; reopening the round allows it again."""
        return await self.writer.write(
            await self.external_row(token, key, given, source=source, submitted_at=submitted_at, seconds=seconds)
        )

    async def external_row(
        self,
        token: str,
        key: str,
        given: Mapping[str, object],
        *,
        source: Source,
        submitted_at: datetime,
        seconds: int | None = None,
    ) -> AnswerRow:
        """The row `submit_external` stores, checked and flagged but not written: an import checks
        every row of a file this way before it writes any (all or nothing), then hands them to
        `self.writer.write_many`."""
        if not key or len(key) > KEY_LENGTH:
            raise ValueError(f"an external answer's key has 1 to {KEY_LENGTH} characters: {key!r}")
        link = await self.links.get(token)
        await ensure_importable(link.survey_id)
        questionnaire = self.questionnaire_for(link)
        scored = check_answers(questionnaire, given, require=False)
        typical = await self.median_seconds.get((link.survey_id, questionnaire.id))
        flags = answer_flags(questionnaire, scored.answers, seconds, typical)
        return answer_row(link, questionnaire, scored, key, submitted_at, seconds, flags, source=source.value)

    async def _store(
        self,
        link: LinkContext,
        nonce: str,
        seconds: int | None,
        given: Mapping[str, object],
        sender: Sender,
        submitted_at: datetime | None = None,
        *,
        access_code: str | None = None,
        cookie_dropped: bool = False,
    ) -> None:
        """Check, flag and write one answer, submitted now unless a simulated answer says when."""
        questionnaire = self.questionnaire_for(link)
        code_hash = await self._admitted(link, nonce, access_code, given) if link.code_required else None
        scored = check_answers(questionnaire, given)
        signals = signal_hashes(
            self.settings.secret,
            link.survey_id,
            sender.device_id,
            sender.address,
            sender.agent,
            sender.language,
            sender.hints,
        )
        moment = submitted_at or datetime.now(UTC)
        attempt = Attempt(
            token=link.token,
            survey=link.survey_id,
            nonce=nonce,
            device_hash=signals.device_hash,
            network_hash=signals.network_hash,
            agent_hash=signals.agent_hash,
            new_device=sender.device_id is None
            or sender.device_issued is None
            or moment.timestamp() - sender.device_issued <= CHURN_WINDOW_SECONDS,
        )
        if not await self.limits.allow(attempt):
            raise TooManyRequests()
        typical = await self.median_seconds.get((link.survey_id, questionnaire.id))
        flags = answer_flags(questionnaire, scored.answers, seconds, typical)
        if cookie_dropped:
            flags.add(Flag.device_churn)
        stored = await self.writer.write(
            answer_row(
                link,
                questionnaire,
                scored,
                nonce,
                moment,
                seconds,
                flags,
                device_hash=signals.device_hash,
                network_hash=signals.network_hash,
                agent_hash=signals.agent_hash,
                access_code_hash=code_hash,
            )
        )
        if not stored:
            # Not stored: its nonce was (a repeated submit), or its code was used by another answer
            # committed first (two submissions racing with one code, from any worker), or the ledger
            # found it over a rate limit (respond/quality.py `repeat_checks`).
            if await nonce_stored(nonce):
                raise DuplicateSubmission()
            if code_hash is not None and await Response.exists().where(Response.access_code_hash == code_hash):
                raise InvalidAccessCode(errors={ACCESS_CODE_FIELD: USED})
            raise TooManyRequests()

    async def _admitted(self, link: LinkContext, nonce: str, typed: str | None, given: Mapping[str, object]) -> str:
        """The keyed hash of the access code that admits this answer; InvalidAccessCode (naming the
        answers' problems too, so the form marks them all at once) when it does not admit it. A form
        submitted again after its code was used by it is a repeat (DuplicateSubmission), not a refusal."""
        checked = await check_code(self.settings.secret, link, typed)
        if checked.code_hash is not None:
            return checked.code_hash
        if checked.used_by is not None and checked.used_by == nonce:
            raise DuplicateSubmission()
        errors = {ACCESS_CODE_FIELD: checked.refusal or ""}
        try:
            check_answers(self.questionnaire_for(link), given)
        except InvalidAnswers as exc:
            errors |= exc.errors
        raise InvalidAccessCode(errors=errors)


def answer_row(
    link: LinkContext,
    questionnaire: Questionnaire,
    scored: ScoredAnswers,
    nonce: str,
    submitted_at: datetime,
    seconds: int | None,
    flags: set[Flag],
    *,
    device_hash: str | None = None,
    network_hash: str | None = None,
    agent_hash: str | None = None,
    access_code_hash: str | None = None,
    source: str = "",
) -> AnswerRow:
    """The row a checked answer is stored as, on its link."""
    return AnswerRow(
        survey=link.survey_id,
        link=link.link_id,
        school=link.school_id,
        respondent_group=link.group.value,
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        answers=msgspec.json.encode(scored.answers).decode(),
        recognition=scored.recognition,
        score=scored.score,
        choices=scored.choices,
        submitted_at=submitted_at,
        seconds_taken=seconds,
        nonce=nonce,
        valid=True,
        exclusion="",
        flags=join_flags(flags),
        device_hash=device_hash,
        network_hash=network_hash,
        agent_hash=agent_hash,
        access_code_hash=access_code_hash,
        source=source,
    )


# Response.nonce's length: an external answer's key takes its place.
KEY_LENGTH = 64


async def ensure_importable(survey_id: int) -> None:
    """Raise RoundSealed when answers from elsewhere may no longer be added to the round: it has
    closed and its results were exported for the inspection file (迎检材料)."""
    row = await Survey.select(Survey.closes_at, Survey.exported_at).where(Survey.id == survey_id).first()
    if row is None:
        raise NotFound()
    if row["exported_at"] is not None and row["closes_at"] <= datetime.now(UTC):
        raise RoundSealed(
            "本轮已结束，结果已导出为迎检材料，不能再导入或录入答卷；如确需补充，请先在轮次页面重新开放本轮。"
        )


async def _median_seconds(key: tuple[int, str]) -> float | None:
    survey_id, questionnaire_id = key
    # Answers already flagged as speeders are left out: counted, a campaign of rapid answers pulled the
    # median down until its own answers no longer looked fast (bench/flags.py: 60 answers of about
    # 10 s early in a round took the median from 74 s to 14 s, and a fifth of them went unflagged).
    rows = await (
        Response.select(Response.seconds_taken)
        .where(
            Response.survey == survey_id,
            Response.questionnaire_id == questionnaire_id,
            Response.flags.not_like(f"%{Flag.speeder.value}%"),
        )
        .order_by(Response.id, ascending=False)
        .limit(MEDIAN_SAMPLE)
    )
    seconds = [row["seconds_taken"] for row in rows if row["seconds_taken"] is not None]
    return median(seconds) if len(seconds) >= MEDIAN_MIN_SAMPLE else None
