"""Running tallies of a round's responses, per link and questionnaire version.

A report needs per stratum only n, Σy, Σy², the score sums, how often each option was chosen for
each item, and the validity counts. The response writer adds every batch to these tallies in the
same transaction that stores it; a review decision recounts the tally it touches. So a report
reads about one row per school × group, however many answers the round holds, and the tallies can
never disagree with the responses they summarise (`survey-service verify` recounts to prove it;
`survey-service retally` rebuilds them after data was changed outside the service).

One rule, `Tally.add`, says what a response contributes; the writer, the recount and the rebuild
all use it.
"""

from __future__ import annotations

import secrets
from collections.abc import Generator, Iterable
from datetime import UTC, datetime
from typing import Any, NamedTuple

import msgspec

from survey_service.db.sql import marks
from survey_service.db.transactions import read_snapshot
from survey_service.distribution.tables import Link
from survey_service.ledger.tables import ResponseTally
from survey_service.ledger.validity import REVIEWED, count, marks_of
from survey_service.respond.schemas import AnswerRow
from survey_service.respond.tables import Response

Key = tuple[int, int, str, str]  # survey, link, questionnaire id, questionnaire version
Query = tuple[str, list[Any]]


class Counted(msgspec.Struct, kw_only=True, gc=False):
    """The response columns a tally is made of, as `recount` reads them from the database (an
    AnswerRow about to be stored has them too)."""

    survey: int
    link: int
    questionnaire_id: str
    questionnaire_version: str
    valid: bool
    exclusion: str
    kept: str
    flags: str
    recognition: float | None
    score: float | None
    choices: str
    submitted_at: datetime
    source: str = ""


SOURCE = list(Counted.__struct_fields__)
NUMBERS = ["returned", "n", "sum_y", "sum_y2", "n_score", "sum_score", "sum_score2"]
KEY = ["survey", "link", "questionnaire_id", "questionnaire_version"]
TALLY_COLUMNS = [*KEY, *NUMBERS, "validity", "choices", "last_at"]
CHUNK = 20_000


class Tally(msgspec.Struct, kw_only=True):
    returned: int = 0
    # Counted answers (valid, with a y): n, Σy, Σy², answers with a score, Σscore, Σscore².
    n: int = 0
    sum_y: float = 0.0
    sum_y2: float = 0.0
    n_score: int = 0
    sum_score: float = 0.0
    sum_score2: float = 0.0
    # Why answers are not counted and which quality flags they carry: {mark: answers} (ledger.validity).
    validity: dict[str, int] = {}
    # Counted answers per item position: {choices code: answers} (see Response.choices).
    choices: list[dict[str, int]] = []
    # When the latest answer arrived: ISO 8601 in UTC, to the microsecond (so text order is time order).
    last_at: str = ""

    @property
    def valid(self) -> int:
        """Answers not excluded after review (Response.valid), whether or not they have a y."""
        return self.returned - count(self.validity, REVIEWED)

    def add(self, row: AnswerRow | Counted) -> None:
        """Count one response."""
        self.returned += 1
        self.last_at = max(self.last_at, _instant(row.submitted_at))
        y = row.recognition
        for mark in marks_of(row.flags, row.valid, row.exclusion, row.kept, y is not None, row.source):
            self.validity[mark] = self.validity.get(mark, 0) + 1
        if row.valid and y is not None:
            self.n += 1
            self.sum_y += y
            self.sum_y2 += y * y
            if row.score is not None:
                self.n_score += 1
                self.sum_score += row.score
                self.sum_score2 += row.score**2
            codes = row.choices
            if len(self.choices) < len(codes):
                self.choices += [{} for _ in range(len(codes) - len(self.choices))]
            for position, code in enumerate(codes):
                counts = self.choices[position]
                counts[code] = counts.get(code, 0) + 1

    def merge(self, other: Tally) -> None:
        for name in NUMBERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.last_at = max(self.last_at, other.last_at)
        for mark, answers in other.validity.items():
            self.validity[mark] = self.validity.get(mark, 0) + answers
        if len(self.choices) < len(other.choices):
            self.choices += [{} for _ in range(len(other.choices) - len(self.choices))]
        for mine, theirs in zip(self.choices, other.choices):
            for code, answers in theirs.items():
                mine[code] = mine.get(code, 0) + answers

    def agrees(self, other: Tally) -> bool:
        """The same counts, and sums equal to rounding (they were added up in another order)."""
        whole = ["returned", "n", "n_score"]
        return (
            all(getattr(self, name) == getattr(other, name) for name in whole)
            and all(_close(getattr(self, name), getattr(other, name)) for name in NUMBERS if name not in whole)
            and self.validity == other.validity
            and self.choices == other.choices
            and self.last_at == other.last_at
        )


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def tallies_of(rows: Iterable[AnswerRow | Counted], into: dict[Key, Tally] | None = None) -> dict[Key, Tally]:
    out = {} if into is None else into
    for row in rows:
        key = row.survey, row.link, row.questionnaire_id, row.questionnaire_version
        tally = out.get(key)
        if tally is None:
            tally = out[key] = Tally()
        tally.add(row)
    return out


def decode(row: dict[str, Any] | tuple) -> Tally:
    """A stored tally row (dict or tuple in TALLY_COLUMNS order) as a Tally."""
    values = row if isinstance(row, dict) else dict(zip(TALLY_COLUMNS, row))
    return Tally(
        **{name: values[name] for name in NUMBERS},
        validity=msgspec.json.decode(values["validity"]),
        choices=msgspec.json.decode(values["choices"]),
        last_at=values["last_at"],
    )


def _encoded(key: Key, tally: Tally) -> list[Any]:
    return [
        *key,
        *(getattr(tally, name) for name in NUMBERS),
        msgspec.json.encode(tally.validity).decode(),
        msgspec.json.encode(tally.choices).decode(),
        tally.last_at,
    ]


UPSERT = (
    f"INSERT INTO response_tally ({', '.join(TALLY_COLUMNS)}, revision) VALUES {{}} "
    f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in [*NUMBERS, "validity", "choices", "last_at", "revision"])
)


class TallyCache:
    """A writer's copy of the tallies it last stored, each with the random revision stored beside it:
    a batch reads only the revisions, and decodes a stored tally only when someone else (a review
    decision, another worker) has written it since."""

    def __init__(self) -> None:
        self.kept: dict[Key, tuple[int, Tally]] = {}


def _where(keys: list[Key]) -> Query:
    condition = " OR ".join(
        ["(survey = ? AND link = ? AND questionnaire_id = ? AND questionnaire_version = ?)"] * len(keys)
    )
    return condition, [part for key in keys for part in key]


def plan_add(added: dict[Key, Tally], cache: TallyCache | None = None) -> Generator[Query, list[tuple], Query | None]:
    """Read what is needed to add `added` to the stored tallies; return the one statement that writes
    them. Runs inside the write transaction that stores the responses, holding the write lock."""
    if not added:
        return None
    keys = list(added)
    kept = cache.kept if cache is not None else {}
    condition, args = _where(keys)
    revisions = {
        tuple(row[:4]): row[4]
        for row in (yield f"SELECT {', '.join(KEY)}, revision FROM response_tally WHERE {condition}", args)
    }
    current = {key: kept[key][1] for key in keys if key in kept and kept[key][0] == revisions.get(key)}
    stale = [key for key in keys if key in revisions and key not in current]
    if stale:
        condition, args = _where(stale)
        for row in (yield f"SELECT {', '.join(TALLY_COLUMNS)} FROM response_tally WHERE {condition}", args):
            current[tuple(row[:4])] = decode(row)
    revision = secrets.randbits(62) + 1  # never the 0 a rebuilt tally carries
    for key in keys:
        tally = current.setdefault(key, Tally())
        tally.merge(added[key])
        # Should the transaction roll back, the stored revision differs and the next batch reloads.
        kept[key] = (revision, tally)
    values = ", ".join(f"({marks(len(TALLY_COLUMNS) + 1)})" for _ in keys)
    return UPSERT.format(values), [value for key in keys for value in (*_encoded(key, current[key]), revision)]


async def recount(survey_id: int, link_id: int | None = None) -> dict[Key, Tally]:
    """The tallies as the responses make them now (read in chunks, in id order)."""
    out: dict[Key, Tally] = {}
    last = 0
    where = [Response.survey == survey_id] + ([Response.link == link_id] if link_id is not None else [])
    columns = [Response.id, *(getattr(Response, name) for name in SOURCE)]
    while True:
        rows = await Response.select(*columns).where(*where, Response.id > last).order_by(Response.id).limit(CHUNK)
        if not rows:
            return out
        # Also parses a timestamp that a driver hands back as text.
        tallies_of(msgspec.convert(rows, list[Counted]), out)
        last = rows[-1]["id"]


async def stored(survey_id: int) -> dict[Key, Tally]:
    rows = await ResponseTally.select(*(getattr(ResponseTally, name) for name in TALLY_COLUMNS)).where(
        ResponseTally.survey == survey_id
    )
    return {
        (row["survey"], row["link"], row["questionnaire_id"], row["questionnaire_version"]): decode(row) for row in rows
    }


class LinkTally(NamedTuple):
    school: int | None  # school id; None for a county-level group
    group: str
    questionnaire_id: str
    questionnaire_version: str
    tally: Tally


async def stored_by_link(survey_id: int) -> list[LinkTally]:
    """The round's stored tallies, each with its link's school and group (what reports and the
    progress page group by)."""
    links = await Link.select(Link.id, Link.school, Link.respondent_group).where(Link.survey == survey_id)
    where = {link["id"]: (link["school"], link["respondent_group"]) for link in links}
    return [
        LinkTally(*where[link], qid, version, kept)
        for (_, link, qid, version), kept in (await stored(survey_id)).items()
    ]


async def rebuild(survey_id: int, link_id: int | None = None) -> int:
    """Replace the round's tallies (or one link's) with a recount; call inside a write transaction
    when other writers may run. Returns the number of tallies written."""
    fresh = await recount(survey_id, link_id)
    where = [ResponseTally.survey == survey_id] + ([ResponseTally.link == link_id] if link_id is not None else [])
    await ResponseTally.delete().where(*where)
    rows = [ResponseTally(**dict(zip(TALLY_COLUMNS, _encoded(key, tally)))) for key, tally in fresh.items()]
    for start in range(0, len(rows), 500):
        await ResponseTally.insert(*rows[start : start + 500])
    return len(rows)


class Mismatch(msgspec.Struct, kw_only=True, frozen=True):
    link: int
    questionnaire_id: str
    questionnaire_version: str
    stored_returned: int
    counted_returned: int
    # Answers counted as valid, and excluded after review: a direct exclusion changes these alone.
    stored_valid: int = 0
    counted_valid: int = 0
    stored_excluded: int = 0
    counted_excluded: int = 0


async def check(survey_id: int) -> list[Mismatch]:
    """Tallies that do not agree with a recount of the responses (none when all is well); both read
    from one snapshot, so answers arriving meanwhile are no false alarm."""
    async with read_snapshot(Response._meta.db):
        kept, counted = await stored(survey_id), await recount(survey_id)
    return [
        Mismatch(
            link=key[1],
            questionnaire_id=key[2],
            questionnaire_version=key[3],
            stored_returned=kept.get(key, Tally()).returned,
            counted_returned=counted.get(key, Tally()).returned,
            stored_valid=kept.get(key, Tally()).returned - count(kept.get(key, Tally()).validity, REVIEWED),
            counted_valid=counted.get(key, Tally()).returned - count(counted.get(key, Tally()).validity, REVIEWED),
            stored_excluded=count(kept.get(key, Tally()).validity, REVIEWED),
            counted_excluded=count(counted.get(key, Tally()).validity, REVIEWED),
        )
        for key in sorted(kept.keys() | counted.keys())
        if not kept.get(key, Tally()).agrees(counted.get(key, Tally()))
    ]
