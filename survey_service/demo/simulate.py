"""Simulated answers for the demo round, stored through the respondent's own write path.

About 1,500 respondents answer over the round's last day: every school and group, in proportion to
their populations (parents half of the sample), mostly 认可 with weaker items and schools, some with
意见建议; plus a few organised stuffing attempts (one phone submitting many times in minutes) that the
quality rules flag. Each answer goes through `RespondService.submit_simulated` (checked, scored,
rate-limited and flagged as a respondent's is) and the ledger's `ResponseWriter` (sealed into the
hash chain and added to the tallies), committed in batches. A fixed seed gives the same respondents
every time; only their times follow the clock.

The groups the round asks one-time access codes of (校长 and 人大代表/政协委员 by default) answer as
a real one does: the demo issues itself codes for those links first, as the bureau would (one per
principal on the roster, one per county deputy; the unused ones show as issued and not used), and
each such respondent submits with its own code.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from analysis.planning import largest_remainder
from survey_service.core.groups import COUNTY_GROUPS, Group
from survey_service.core.settings import Settings
from survey_service.db.engine import current_engine
from survey_service.demo.county import DEPUTIES, demo_schools
from survey_service.distribution.access_codes import issue_codes
from survey_service.distribution.service import LinkCache, list_links
from survey_service.ledger.store import response_store
from survey_service.ledger.writer import ResponseWriter
from survey_service.questionnaire import Item, Questionnaire
from survey_service.respond.service import RespondService, Sender
from survey_service.respond.tables import Response
from survey_service.surveys.service import round_record

SEED = 20261127

# Respondents per group (about 1,500 with the stuffing): parents half of the sample, as the national
# rule asks; principals nearly all answer; 其他群众 has no known population.
GROUP_TARGETS = {
    Group.parent: 790,
    Group.student: 270,
    Group.teacher: 240,
    Group.deputy: 90,
    Group.public: 135,
}
PRINCIPAL_TURNOUT = 0.8  # of the vice principals

# Items that draw more 不满意 (the county's weak points), and schools that do worse.
ITEM_PENALTY = {
    "homework_burden": 0.08,
    "school_conditions": 0.06,
    "teacher_pay": 0.12,
    "resource_sharing": 0.05,
    "teacher_exchange": 0.05,
    "assessment_reform": 0.03,
}
SCHOOL_PENALTY = {"WQ08": 0.10, "WQ14": 0.06, "WQ16": 0.12, "WQ20": 0.08}
# Policy items some respondents know little about (不了解).
POLICY_ITEMS = {"equity_policy", "resource_sharing", "assessment_reform", "government_effort", "nearby_enrolment"}
UNKNOWN_SHARE = {
    Group.parent: 0.04,
    Group.student: 0.03,
    Group.teacher: 0.015,
    Group.principal: 0.005,
    Group.deputy: 0.02,
    Group.public: 0.08,
}
# (share of respondents, chance of 不满意 on an ordinary item, how they split 满意/比较满意/基本满意)
MOODS = [
    (0.68, 0.03, (0.62, 0.26, 0.12)),
    (0.22, 0.12, (0.35, 0.35, 0.30)),
    (0.10, 0.38, (0.20, 0.35, 0.45)),
]
ENTHUSIASTS = 0.04  # answer 满意 to everything
SPEEDERS = 0.02  # click through in a few seconds
SUGGESTION_SHARE = {
    Group.parent: 0.2,
    Group.student: 0.12,
    Group.teacher: 0.25,
    Group.principal: 0.3,
    Group.deputy: 0.35,
    Group.public: 0.2,
}
# Median seconds a questionnaire takes on a phone.
MEDIAN_SECONDS = {"student": 150, "staff": 110, "social": 95}
# Parents with children in two schools answer twice from one phone (flagged, and explained in review).
TWO_CHILD_PARENTS = 6
# Stuffing: (school code or None for 其他群众, group, answers from one phone within minutes).
STUFFING = [("WQ03", Group.parent, 8), ("WQ12", Group.parent, 6), (None, Group.public, 7)]

SUGGESTIONS = {
    Group.parent: [
        "希望学校多组织课外活动和体育锻炼，孩子放学后有地方去。",
        "作业量有时候还是偏多，希望老师布置作业时多考虑低年级孩子。",
        "乡村学校冬季取暖条件希望再改善一些。",
        "希望多开家长会，及时沟通孩子在校的情况。",
        "校车班次太少，偏远村子的孩子上学不方便。",
        "食堂饭菜希望多样一些，注意营养搭配。",
        "希望增加英语和信息技术课的专业老师。",
        "学校周边上下学时段比较拥堵，希望加强交通管理。",
        "对学校的管理很满意，老师很负责，感谢！",
        "希望课后服务的内容更丰富，不只是写作业。",
        "希望加强心理健康教育，多关注留守儿童。",
        "图书室开放时间太短，希望周末也能借书。",
        "希望减少各类软件打卡和家长群里布置给家长的任务。",
        "国家通用语言文字教学质量还需要提高。",
        "希望城区学校的好老师多到乡下学校交流。",
    ],
    Group.student: [
        "希望体育课和音乐课不要被占用。",
        "希望学校多买一些课外书。",
        "作业有点多，有时候写到很晚。",
        "希望食堂的饭更好吃一些。",
        "希望多组织研学和参观活动。",
        "老师讲课很认真，我很喜欢我们学校。",
        "希望操场能修一修，下雨后有积水。",
        "希望有更多兴趣小组，比如机器人和书法。",
    ],
    Group.teacher: [
        "非教学任务太多，各类检查、填表占用了备课时间。",
        "希望增加乡村教师的交通补助和周转宿舍。",
        "教师培训希望多一些课堂实操，少一些理论讲座。",
        "希望绩效工资进一步向一线教师和班主任倾斜。",
        "城乡教师交流轮岗时间太短，效果不明显，希望保持稳定。",
        "音体美专业教师紧缺，部分学科只能由其他老师兼任。",
        "希望改善乡村学校的实验室和多媒体设备。",
        "学生心理问题增多，希望配备专职心理教师。",
        "希望减少进校园的各类活动，让学校安心教学。",
    ],
    Group.deputy: [
        "建议加大对乡村学校的投入，缩小城乡差距。",
        "建议进一步规范校外培训，减轻家庭负担。",
        "希望公开招生划片情况，让群众更清楚。",
        "建议加强教师队伍建设，稳定乡村教师队伍。",
        "对近年来县里学校建设的变化很满意。",
        "建议完善学校安全设施，加强上下学安全管理。",
        "希望多宣传义务教育的惠民政策。",
        "建议关注进城务工人员随迁子女的入学问题。",
    ],
}
SUGGESTIONS[Group.principal] = SUGGESTIONS[Group.teacher]
SUGGESTIONS[Group.public] = SUGGESTIONS[Group.deputy]

# Phones as they reach the service: mostly WeChat's browser on Android, some iPhones.
AGENTS = [
    "Mozilla/5.0 (Linux; Android 10; V2001A) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 MicroMessenger/8.0.28.2240",
    "Mozilla/5.0 (Linux; Android 12; PEHM00) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/107.0.5304.141 XWEB/5061 MMWEBSDK/20230303 Mobile Safari/537.36 MicroMessenger/8.0.34.2340",
    "Mozilla/5.0 (Linux; Android 9; MI 8) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 "
    "Chrome/78.0.3904.62 XWEB/2693 MMWEBSDK/201201 Mobile Safari/537.36 MicroMessenger/7.0.22.1820",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.38(0x1800262c) NetType/4G Language/zh_CN",
    "Mozilla/5.0 (Linux; Android 11; M2006C3LC) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/98.0.4758.101 Mobile Safari/537.36",
]
# How answers spread over the day (local hours): few at night, most in the evening after work.
HOUR_WEIGHTS = [
    0.05, 0.03, 0.02, 0.02, 0.02, 0.05, 0.2, 0.5, 0.8, 0.9, 0.9, 1.0,
    1.2, 1.0, 0.8, 0.8, 0.9, 1.0, 1.3, 1.8, 2.2, 2.0, 1.2, 0.4,
]  # fmt: skip


class Climate(msgspec.Struct, kw_only=True, frozen=True):
    """How a round's respondents lean beyond the county's usual weak points: an added chance of 不满意
    on every item, per item and per school (negative: fewer). The open demo round has none; the demo's
    previous year's round (demo/previous.py) is a little worse overall, on some items much worse."""

    overall: float = 0.0
    items: dict[str, float] = {}
    schools: dict[str, float] = {}


class Simulated(msgspec.Struct, kw_only=True, frozen=True):
    """One simulated submission: which link, what was answered, from which phone, when."""

    token: str
    answers: dict[str, str]
    device_id: str
    address: str
    agent: str
    at: datetime
    seconds: int


class FillSummary(msgspec.Struct, kw_only=True, frozen=True):
    answers: int  # stored now (0 when the round already had answers)
    flagged: int
    existing: int  # answers the round had before (then none are added)
    seconds: float


async def fill_demo_round(
    settings: Settings,
    survey_id: int,
    questionnaires: dict[str, Questionnaire],
    *,
    seed: int = SEED,
    now: datetime | None = None,
    climate: Climate = Climate(),
) -> FillSummary:
    """Fill the demo round with simulated answers, unless it has answers already (a rerun reuses them)."""
    started = time.perf_counter()
    existing = await Response.count().where(Response.survey == survey_id)
    if existing:
        return FillSummary(answers=0, flagged=0, existing=existing, seconds=time.perf_counter() - started)
    record = await round_record(survey_id)
    forms = {group: questionnaires[name] for group, name in record.questionnaires.items()}
    links = {(row.school_code or None, row.group): row.token for row in await list_links(survey_id, "")}
    now = now or datetime.now(UTC)
    end = min(now, record.closes_at) - timedelta(minutes=1)
    start = max(record.opens_at + timedelta(minutes=1), end - timedelta(days=1))
    plan = simulated_answers(links, forms, start, max(end, start), ZoneInfo(settings.timezone), seed, climate)

    writer = ResponseWriter(response_store(current_engine()), batch_size=settings.write_batch_size)
    service = RespondService(settings, LinkCache(settings.link_cache_seconds), questionnaires, writer)
    # Read every link and median once before answering: then each batch's submissions reach the
    # writer in the order they were made (a first read would let later ones overtake it).
    for token in links.values():
        await service.links.get(token)
    codes = await _issue_demo_codes(settings, service, links, plan)
    for form in forms.values():
        await service.median_seconds.get((survey_id, form.id))
    await writer.start()
    try:
        size = settings.write_batch_size
        for first in range(0, len(plan), size):
            await asyncio.gather(
                *(
                    _submit(service, survey_id, first + k, answer, codes.get(first + k))
                    for k, answer in enumerate(plan[first : first + size])
                )
            )
    finally:
        await writer.stop()
    flagged = await Response.count().where((Response.survey == survey_id) & (Response.flags != ""))
    return FillSummary(answers=len(plan), flagged=flagged, existing=0, seconds=time.perf_counter() - started)


async def _issue_demo_codes(
    settings: Settings, service: RespondService, links: dict[tuple[str | None, Group], str], plan: list[Simulated]
) -> dict[int, str]:
    """Codes for the links that need them, as the bureau issues them (one per principal on the roster,
    one per county deputy, never fewer than answer); {index in the plan: the code its respondent types}."""
    principals = {school.code: school.principals for school in demo_schools()}
    codes: dict[int, str] = {}
    for (school, group), token in links.items():
        link = await service.links.get(token)
        if not link.code_required:
            continue
        answering = [index for index, answer in enumerate(plan) if answer.token == token]
        people = principals.get(school or "", 0) if group is Group.principal else DEPUTIES
        _, issued = await issue_codes(link.survey_id, link.link_id, max(people, len(answering), 1), settings.secret)
        codes |= {index: code.code for index, code in zip(answering, issued)}
    return codes


async def _submit(
    service: RespondService, survey_id: int, index: int, answer: Simulated, access_code: str | None = None
) -> None:
    await service.submit_simulated(
        answer.token,
        f"demo-{survey_id}-{index:05d}",
        answer.answers,
        Sender(device_id=answer.device_id, address=answer.address, agent=answer.agent),
        submitted_at=answer.at,
        seconds=answer.seconds,
        access_code=access_code,
    )


def simulated_answers(
    links: dict[tuple[str | None, Group], str],
    forms: dict[Group, Questionnaire],
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    seed: int = SEED,
    climate: Climate = Climate(),
) -> list[Simulated]:
    """Every simulated submission, in the order they were made. Who answers what comes from `seed`
    alone; when, from a second stream, so that the answers do not depend on the clock."""
    rng, clock = random.Random(seed), random.Random(seed + 1)
    phones: list[Simulated] = []
    for (school, group), count in _respondents(rng).items():
        for _ in range(count):
            phones.append(
                _respondent(rng, clock, links[(school, group)], forms[group], group, school, start, end, zone, climate)
            )
    # A parent with children in two schools answers the second school's parent link from the same phone.
    parent_links = [token for (school, group), token in sorted(links.items(), key=_by_school) if group is Group.parent]
    parents = [phone for phone in phones if phone.token in set(parent_links)]
    for first in rng.sample(parents, TWO_CHILD_PARENTS):
        again = _respondent(
            rng, clock, rng.choice(parent_links), forms[Group.parent], Group.parent, None, start, end, zone
        )
        later = min(first.at + timedelta(minutes=rng.uniform(5, 180)), end)
        phones.append(msgspec.structs.replace(again, device_id=first.device_id, agent=first.agent, at=later))
    for school, group, count in STUFFING:
        phones += _stuffing(rng, clock, links[(school, group)], forms[group], count, start, end)
    return sorted(phones, key=lambda p: p.at)


def _by_school(link: tuple[tuple[str | None, Group], str]) -> tuple[str, str]:
    (school, group), _ = link
    return school or "", group.value


def _respondents(rng: random.Random) -> dict[tuple[str | None, Group], int]:
    """How many answer per school × group: the group's target split by population, varied by how
    keenly each school passed the links on."""
    schools = demo_schools()
    keenness = {s.code: rng.uniform(0.65, 1.35) for s in schools}
    counts: dict[tuple[str | None, Group], int] = {}
    populations = {
        Group.parent: [s.parents for s in schools],
        Group.student: [s.students for s in schools],
        Group.teacher: [s.teachers for s in schools],
    }
    for group, sizes in populations.items():
        for school, size, n in zip(schools, sizes, largest_remainder(GROUP_TARGETS[group], sizes)):
            counts[(school.code, group)] = min(size, round(n * keenness[school.code]))
    for school in schools:
        # The principal answers; the vice principals mostly do.
        counts[(school.code, Group.principal)] = 1 + sum(
            rng.random() < PRINCIPAL_TURNOUT for _ in range(school.principals - 1)
        )
    counts[(None, Group.deputy)] = min(DEPUTIES, GROUP_TARGETS[Group.deputy])
    counts[(None, Group.public)] = GROUP_TARGETS[Group.public]
    assert set(COUNTY_GROUPS) <= {group for _, group in counts}
    return counts


def _respondent(
    rng: random.Random,
    clock: random.Random,
    token: str,
    form: Questionnaire,
    group: Group,
    school: str | None,
    start: datetime,
    end: datetime,
    zone: ZoneInfo,
    climate: Climate = Climate(),
) -> Simulated:
    _, negative, positive = _pick(rng, [(mood[0], mood) for mood in MOODS])
    negative += SCHOOL_PENALTY.get(school or "", 0.0) + climate.overall + climate.schools.get(school or "", 0.0)
    enthusiast = rng.random() < ENTHUSIASTS
    answers = {}
    for item in form.rated_items:
        lean = negative + climate.items.get(item.id, 0.0)
        answers[item.id] = _option(rng, form, item, group, lean, positive, enthusiast)
    text = [item for item in form.items if item not in form.rated_items]
    suggest = SUGGESTION_SHARE[group] * (1.8 if negative > 0.3 else 1.0)
    for item in text:
        if rng.random() < suggest:
            answers[item.id] = rng.choice(SUGGESTIONS[group])
    typical = MEDIAN_SECONDS.get(form.id, 100)
    if rng.random() < SPEEDERS:
        seconds = rng.randint(5, max(6, len(form.rated_items) - 2))
    else:
        seconds = int(
            min(
                1200,
                max(20, rng.lognormvariate(0, 0.45) * typical + (40 if len(answers) > len(form.rated_items) else 0)),
            )
        )
    return Simulated(
        token=token,
        answers=answers,
        device_id=f"{rng.getrandbits(96):024x}",
        address=_address(rng),
        agent=rng.choice(AGENTS),
        at=_moment(clock, start, end, zone),
        seconds=seconds,
    )


def _option(
    rng: random.Random,
    form: Questionnaire,
    item: Item,
    group: Group,
    negative: float,
    positive: Sequence[float],
    enthusiast: bool,
) -> str:
    scale = form.options_for(item)
    good = sorted((o for o in scale if o.recognised), key=lambda o: -(o.score or 0))
    if enthusiast:
        return good[0].code
    unknown = [o for o in scale if o.excluded]
    bad = [o for o in scale if not o.recognised and not o.excluded]
    unsure = UNKNOWN_SHARE[group] + (0.05 if item.id in POLICY_ITEMS and group in (Group.parent, Group.public) else 0)
    if unknown and rng.random() < unsure:
        return unknown[0].code
    if bad and rng.random() < min(0.85, negative + ITEM_PENALTY.get(item.id, 0.0)):
        return bad[0].code
    return rng.choices(good, weights=positive[: len(good)])[0].code


def _stuffing(
    rng: random.Random,
    clock: random.Random,
    token: str,
    form: Questionnaire,
    count: int,
    start: datetime,
    end: datetime,
) -> list[Simulated]:
    """One phone submitting `count` glowing answers within minutes (刷票)."""
    at = start + (end - start) * clock.uniform(0.3, 0.9)
    device, address, agent = f"{rng.getrandbits(96):024x}", _address(rng), rng.choice(AGENTS)
    out = []
    for _ in range(count):
        best = {item.id: max(form.options_for(item), key=lambda o: o.score or 0).code for item in form.rated_items}
        out.append(
            Simulated(
                token=token,
                answers=best,
                device_id=device,
                address=address,
                agent=agent,
                at=at,
                seconds=rng.randint(18, 45),
            )
        )
        at = min(at + timedelta(seconds=clock.uniform(25, 70)), end)
    return out


def _pick(rng: random.Random, weighted: list[tuple[float, tuple]]) -> tuple:
    return rng.choices([value for _, value in weighted], weights=[w for w, _ in weighted])[0]


def _address(rng: random.Random) -> str:
    """A mobile carrier's shared address (carrier-grade NAT, 100.64.0.0/10)."""
    return f"100.{rng.randint(64, 127)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def _moment(clock: random.Random, start: datetime, end: datetime, zone: ZoneInfo) -> datetime:
    """A time between start and end, more often in the local evening than at night."""
    span = (end - start).total_seconds()
    top = max(HOUR_WEIGHTS)
    while True:
        moment = start + timedelta(seconds=clock.uniform(0, span))
        if clock.random() * top < HOUR_WEIGHTS[moment.astimezone(zone).hour]:
            return moment.replace(microsecond=0)
