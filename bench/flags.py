"""Quality flags on a simulated round: how many honest answers they mark, and how many stuffed ones.

    python bench/flags.py [--seed 1] [--answers 1500]

A fresh SQLite database, migrated, with the demo county's round (no answers yet: not the demo's own
simulated answers) takes a realistic honest round across its links and, mixed into it, the stuffing
campaigns. Every answer goes through the
product's own path: RespondService.submit (the answer checks, the rate limits, the `speeder` and
`straight_liner` rules, the median time from the round's own answers) and the ledger's response
writer into SQLite (the `duplicate_device` and `burst` rules, the hash chain, the tallies). The round
runs on a simulated clock of four days (the limits, the nonce's seconds, the median's refresh and
`submitted_at` all read it), so bursts and limits see the answers' real spacing.

Prints, per pattern: answers sent, stored (the rest refused by the rate limits), flagged, the flag
rate among stored answers, and the count of each flag. The target: honest at most 5% flagged, each
stuffing pattern mostly flagged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import random
import tempfile
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

SECRET = "flags-bench-secret"
ROUND_DAYS = 4
HONEST = "honest round"

# Honest respondents. The groups' shares follow the sampling rule: parents at least half, the other
# groups roughly equal.
GROUP_SHARE = {"parent": 0.5, "student": 0.2, "teacher": 0.15, "principal": 0.03, "deputy": 0.06, "public": 0.06}
# How a respondent answers (shares of respondents). About a third tick 满意 throughout (the 34% the
# issue saw in a real-looking round); most others are mostly positive with some variety; a few are
# critical, and a very few honestly answer 不满意 or 不了解 throughout.
STYLES = {
    "all satisfied": 0.34,
    "all one other positive option": 0.03,
    "mostly positive, varied": 0.53,
    "critical, varied": 0.075,
    "all dissatisfied": 0.01,
    "all unknown": 0.005,
}
# Seconds taken: log-normal, median 90 s for 15 rated items (in proportion to a questionnaire's
# items); straight-liners read less and take about 0.7 of that. SIGMA 0.6 puts the middle 90% of
# respondents between 0.37x and 2.7x the median.
MEDIAN_SECONDS_PER_15_ITEMS = 90
STRAIGHT_LINE_PACE = 0.7
SIGMA = 0.6
# Phones: a few common browsers (the user agent is one of the signals).
AGENTS = [
    f"Mozilla/5.0 (Linux; Android {android}; {model}) AppleWebKit/537.36 Mobile Safari/537.36 MicroMessenger/{wechat}"
    for android, model, wechat in [
        ("10", "V2001A", "8.0.28"),
        ("11", "M2012K11AC", "8.0.30"),
        ("12", "PDKM00", "8.0.32"),
        ("9", "HMA-AL00", "8.0.25"),
        ("13", "22081212C", "8.0.33"),
    ]
] + ["Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.30"]


@dataclass
class Answer:
    at: float  # submitted, seconds since the epoch on the simulated clock
    pattern: str
    token: str
    given: dict[str, str]
    seconds: int
    device: str | None
    address: str
    agent: str


class Clock:
    """The simulated time that the answer path reads: patched into the modules that read the clock."""

    def __init__(self, start: float):
        self.now = start

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        from survey_service.core import cache
        from survey_service.respond import limits, nonce, service

        clock = self

        class SimulatedDatetime(datetime):
            @classmethod
            def now(cls, tz=None):  # type: ignore[override]
                return datetime.fromtimestamp(clock.now, tz)

        ticking = SimpleNamespace(time=lambda: self.now, monotonic=lambda: self.now)
        with (
            mock.patch.object(service, "datetime", SimulatedDatetime),
            mock.patch.object(nonce, "time", ticking),
            mock.patch.object(limits, "time", ticking),
            mock.patch.object(cache, "time", ticking),
        ):
            yield


class Round:
    """The demo round's links and questionnaires, and answers drawn for them."""

    def __init__(self, links: list, questionnaires: dict, start: float, rng: random.Random):
        from survey_service.core.groups import DEFAULT_QUESTIONNAIRES

        self.rng = rng
        self.start = start
        self.by_group: dict[str, list] = defaultdict(list)
        for link in links:
            self.by_group[link.group.value].append(link)
        self.questionnaire = {link.group.value: questionnaires[DEFAULT_QUESTIONNAIRES[link.group]] for link in links}

    def codes(self, group: str) -> tuple[list[str], list[str]]:
        """The scale's codes that count as 认可 and those that do not (as the questionnaire declares)."""
        scale = self.questionnaire[group].scale
        return [o.code for o in scale if o.recognised], [o.code for o in scale if not o.recognised]

    def given(self, group: str, style: str) -> dict[str, str]:
        rng, items = self.rng, self.questionnaire[group].rated_items
        positive, other = self.codes(group)
        dissatisfied, unknown = other[0], other[-1]
        if style == "all satisfied":
            return {item.id: positive[0] for item in items}
        if style == "all one other positive option":
            code = rng.choice(positive[1:])
            return {item.id: code for item in items}
        if style == "all dissatisfied":
            return {item.id: dissatisfied for item in items}
        if style == "all unknown":
            return {item.id: unknown for item in items}
        # Varied: each respondent leans somewhere; a varied answer is re-drawn if it came out uniform.
        if style == "critical, varied":
            weights = [0.15, 0.15, 0.25, 0.35, 0.10]
        else:
            lean = rng.random()
            weights = [0.35 + 0.4 * lean, 0.3 - 0.15 * lean, 0.2 - 0.1 * lean, 0.05, 0.1 - 0.05 * lean]
        options = [*positive, dissatisfied, unknown]
        while True:
            given = {item.id: rng.choices(options, weights)[0] for item in items}
            if len(set(given.values())) > 1:
                return given

    def seconds(self, group: str, pace: float = 1.0, sigma: float = SIGMA) -> int:
        median = MEDIAN_SECONDS_PER_15_ITEMS * len(self.questionnaire[group].rated_items) / 15 * pace
        return max(1, round(median * math.exp(self.rng.gauss(0, sigma))))

    def honest(self, count: int) -> list[Answer]:
        """Each school pushes its links to its WeChat groups a few times over the round; answers follow
        each push over a few hours. Students and teachers answer at school (one Wi-Fi address per
        school); parents and the public from carriers' shared addresses or home broadband."""
        rng, answers = self.rng, []
        pushes: dict[str, list[float]] = {}
        groups, shares = list(GROUP_SHARE), list(GROUP_SHARE.values())
        styles, style_shares = list(STYLES), list(STYLES.values())
        for _ in range(count):
            group = rng.choices(groups, shares)[0]
            link = rng.choice(self.by_group[group])
            times = pushes.setdefault(
                link.token, [self.start + rng.uniform(0, (ROUND_DAYS - 1) * 86400) for _ in range(3)]
            )
            at = rng.choice(times) + rng.expovariate(1 / 7200)
            style = rng.choices(styles, style_shares)[0]
            pace = STRAIGHT_LINE_PACE if style.startswith("all") else 1.0
            if group in ("student", "teacher", "principal"):
                address = f"school-wifi-{link.school_code}"
            elif rng.random() < 0.6:
                address = f"carrier-nat-{rng.randrange(20)}"
            else:
                address = f"home-{uuid.UUID(int=rng.getrandbits(128))}"
            answers.append(
                Answer(
                    at=at,
                    pattern=HONEST,
                    token=link.token,
                    given=self.given(group, style),
                    seconds=self.seconds(group, pace),
                    device=str(uuid.UUID(int=rng.getrandbits(128))),
                    address=address,
                    agent=rng.choice(AGENTS),
                )
            )
        return answers

    def campaign(
        self, pattern: str, count: int, every: float, *, style: str, pace: float, sender: str, sigma: float = SIGMA
    ) -> list[Answer]:
        """`count` answers to one parent link, one about every `every` seconds from a random moment of
        the round, each taking `pace` times an honest respondent's median time; `sender`: one device,
        a new device each time from one address and browser, a browser keeping no cookie at all, or
        many phones."""
        rng = self.rng
        link = rng.choice(self.by_group["parent"])
        begin = self.start + rng.uniform(0, (ROUND_DAYS - 1) * 86400)
        phone, address, agent = str(uuid.UUID(int=rng.getrandbits(128))), f"stuffer-{pattern}", rng.choice(AGENTS)
        answers = []
        for index in range(count):
            fresh = str(uuid.UUID(int=rng.getrandbits(128)))
            device = {"one device": phone, "no cookie": None}.get(sender, fresh)  # else a new cookie, or many phones
            answers.append(
                Answer(
                    at=begin + index * every * rng.uniform(0.8, 1.2),
                    pattern=pattern,
                    token=link.token,
                    given=self.given("parent", style),
                    seconds=self.seconds("parent", pace, sigma),
                    device=device,
                    address=address if sender != "many phones" else f"carrier-nat-{rng.randrange(20)}",
                    agent=agent if sender != "many phones" else rng.choice(AGENTS),
                )
            )
        return answers


def stuffing(round_: Round) -> list[Answer]:
    """One person filling in forms one after another takes about two minutes each (a form read at an
    honest pace, then opened again): they look like honest answers but for who sends them."""
    varied = "mostly positive, varied"
    return [
        # One phone answering again and again (every 5 minutes: the per-device limit refuses some).
        *round_.campaign("one device, repeatedly", 40, 300, style=varied, pace=1.0, sender="one device"),
        # One browser at one address clearing its cookies before each form (a new device cookie each time).
        *round_.campaign("cookies cleared each time", 40, 120, style=varied, pace=1.0, sender="new cookie each time"),
        # The same, with a browser that keeps no cookie at all (no device cookie is sent).
        *round_.campaign("no cookie kept, one address", 40, 120, style=varied, pace=1.0, sender="no cookie"),
        # Helpers on their own phones ticking 满意 throughout as fast as they can (about 10 s a form).
        *round_.campaign(
            "rapid straight-liners", 60, 30, style="all satisfied", pace=0.13, sigma=0.3, sender="many phones"
        ),
        # An organised campaign against the county: 不满意 throughout, at a reader's pace.
        *round_.campaign("negative straight lines", 60, 120, style="all dissatisfied", pace=0.8, sender="many phones"),
    ]


async def run(db: str, seed: int, count: int) -> list[tuple[str, int, Counter]]:
    from survey_service.core.errors import TooManyRequests
    from survey_service.core.resources import questionnaires_dir
    from survey_service.core.settings import Settings
    from survey_service.db.engine import connected
    from survey_service.db.migrate import migrate
    from survey_service.demo.service import ensure_demo_round
    from survey_service.distribution.service import LinkCache, list_links
    from survey_service.ledger.store import SQLiteResponseStore
    from survey_service.ledger.writer import ResponseWriter
    from survey_service.questionnaire import load_questionnaires
    from survey_service.respond.nonce import issue_nonce
    from survey_service.respond.service import RespondService, Sender
    from survey_service.respond.tables import Response
    from survey_service.surveys.tables import Survey

    settings = Settings(database_url=db, secret=SECRET)
    questionnaires = load_questionnaires(questionnaires_dir())
    async with connected(settings):
        await migrate()
        survey_id = await ensure_demo_round(questionnaires)
        # Flags, not access codes, are measured here: the principals' and deputies' links answer
        # without a code (tests/respond/test_access_codes.py measures the codes).
        await Survey.update({Survey.access_code_groups: []}).where(Survey.id == survey_id)
        links = await list_links(survey_id, settings.public_url)
        [survey] = await Survey.select(Survey.opens_at).where(Survey.id == survey_id)
        start = (survey["opens_at"] + timedelta(hours=1)).timestamp()
        round_ = Round(links, questionnaires, start, random.Random(seed))
        campaigns = stuffing(round_)
        answers = sorted([*round_.honest(count), *campaigns], key=lambda answer: answer.at)
        writer = ResponseWriter(SQLiteResponseStore(db))
        await writer.start()
        service = RespondService(settings, LinkCache(settings.link_cache_seconds), questionnaires, writer)
        clock = Clock(start)
        sent: Counter[str] = Counter()
        pattern_of = {}
        with clock.installed():
            for answer in answers:
                clock.now = answer.at
                nonce = issue_nonce(SECRET, answer.token, now=answer.at - answer.seconds)
                pattern_of[nonce] = answer.pattern
                sent[answer.pattern] += 1
                try:
                    await service.submit(
                        answer.token,
                        nonce,
                        answer.given,
                        Sender(device_id=answer.device, address=answer.address, agent=answer.agent),
                    )
                except TooManyRequests:
                    pass  # refused by the rate limits: not stored
        await writer.stop()
        stored = await Response.select(Response.nonce, Response.flags)
    flagged: dict[str, Counter] = defaultdict(Counter)
    for row in stored:
        counts = flagged[pattern_of[row["nonce"]]]
        counts["stored"] += 1
        flags = [flag for flag in row["flags"].split(",") if flag]
        counts["flagged"] += bool(flags)
        counts.update(flags)
    patterns = list(dict.fromkeys([HONEST, *(answer.pattern for answer in campaigns)]))
    return [(pattern, sent[pattern], flagged[pattern]) for pattern in patterns]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--answers", type=int, default=1500, help="honest answers (default 1500)")
    args = parser.parse_args()
    from survey_service.respond.quality import Flag

    with tempfile.TemporaryDirectory(prefix="bench-flags-") as directory:
        rows = asyncio.run(run(str(Path(directory) / "flags.db"), args.seed, args.answers))
    flags = [flag.value for flag in Flag]
    header = ["pattern", "answers", "stored", "flagged", "rate", *flags]
    table = [
        [
            pattern,
            str(sent),
            str(counts["stored"]),
            str(counts["flagged"]),
            f"{counts['flagged'] / counts['stored']:.1%}" if counts["stored"] else "-",
            *(str(counts[flag]) for flag in flags),
        ]
        for pattern, sent, counts in rows
    ]
    widths = [max(len(line[i]) for line in [header, *table]) for i in range(len(header))]
    for line in [header, *table]:
        print(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width) for i, (cell, width) in enumerate(zip(line, widths))
            )
        )
    print(f"seed {args.seed}; stored = answers the rate limits did not refuse; rate = flagged / stored")


if __name__ == "__main__":
    main()
