"""The respondent's operations: open a form, submit it."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import msgspec

from survey_service.distribution.service import LinkCache, LinkContext
from survey_service.errors import DuplicateSubmission, SurveyNotOpen
from survey_service.questionnaire import Questionnaire
from survey_service.respond.answers import check_answers
from survey_service.respond.nonce import issue_nonce, verify_nonce
from survey_service.respond.writer import ResponseWriter
from survey_service.settings import Settings


class OpenForm(msgspec.Struct, kw_only=True, frozen=True):
    link: LinkContext
    questionnaire: Questionnaire
    nonce: str


class RespondService:
    def __init__(
        self,
        settings: Settings,
        links: LinkCache,
        questionnaires: dict[str, Questionnaire],
        writer: ResponseWriter,
    ):
        self.settings = settings
        self.links = links
        self.questionnaires = questionnaires
        self.writer = writer
        self.zone = ZoneInfo(settings.timezone)

    async def open_form(self, token: str) -> OpenForm:
        link = await self.links.get(token)
        self.ensure_open(link)
        return OpenForm(
            link=link,
            questionnaire=self.questionnaire_for(link),
            nonce=issue_nonce(self.settings.secret, token),
        )

    def questionnaire_for(self, link: LinkContext) -> Questionnaire:
        return self.questionnaires[link.questionnaire_id]

    def ensure_open(self, link: LinkContext, now: datetime | None = None) -> None:
        now = now or datetime.now(timezone.utc)
        if now < link.opens_at:
            raise SurveyNotOpen(f"本次调查尚未开始，将于 {self.local(link.opens_at)} 开放，请到时再填写。")
        if now >= link.closes_at:
            raise SurveyNotOpen(
                f"本次调查已于 {self.local(link.closes_at)} 结束"
                f"（开放时间 {self.local(link.opens_at)} 至 {self.local(link.closes_at)}），感谢您的关注。"
            )

    def local(self, moment: datetime) -> str:
        return moment.astimezone(self.zone).strftime("%Y年%m月%d日 %H:%M")

    async def submit(self, token: str, nonce: str, given: dict[str, object]) -> None:
        """Validate and store one questionnaire; returns only after it is committed."""
        link = await self.links.get(token)
        self.ensure_open(link)
        seconds = verify_nonce(self.settings.secret, token, nonce, self.settings.form_max_age_seconds)
        questionnaire = self.questionnaire_for(link)
        scored = check_answers(questionnaire, given)
        stored = await self.writer.write(
            {
                "survey": link.survey_id,
                "link": link.link_id,
                "school": link.school_id,
                "respondent_group": link.group.value,
                "questionnaire_id": questionnaire.id,
                "questionnaire_version": questionnaire.version,
                "answers": msgspec.json.encode(scored.answers).decode(),
                "recognition": scored.recognition,
                "score": scored.score,
                "choices": scored.choices,
                "submitted_at": datetime.now(timezone.utc),
                "seconds_taken": seconds,
                "nonce": nonce,
                "valid": True,
            }
        )
        if not stored:
            raise DuplicateSubmission()
