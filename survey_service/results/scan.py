"""The fast read: one sequential scan of a round's responses (its id range), no sorting.

SQLite has no hash aggregation: a GROUP BY over a million responses sorts them all (about 3 s
measured). Instead the scan returns one row: the validity counts, Σy and Σscore as SQL computes
them, and one string of records, each the response's link as one character (chr(link + offset),
above the ASCII range of the codes) followed by its `choices` code. numpy turns the records into
per-stratum totals, recomputing y and the score from the codes by the analysis library's rule;
the result is used only if Σy and Σscore agree with SQL's, and every group answered one
questionnaire version on file. Otherwise `read` returns None and the caller takes the GROUP BY path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import numpy as np

from survey_service.respond.tables import Response
from survey_service.results.aggregates import Aggregates
from survey_service.results.choices import ItemCounter
from survey_service.results.reasons import REASON_SUMS

FIRST_KEY = 256  # link characters start above every choices code (ASCII)
LAST_KEY = 0xD7FF  # below the UTF-16 surrogates, which a database string cannot hold
COUNTED = "valid AND recognition IS NOT NULL"

# `+survey` keeps SQLite on the id range (sequential) rather than the survey index (random reads).
RANGE_SQL = """
SELECT COUNT(*) AS returned, {reasons},
       SUM(CASE WHEN {counted} THEN recognition END) AS sum_y,
       SUM(CASE WHEN {counted} THEN score END) AS sum_score,
       {concat}(CASE WHEN {counted} THEN {char}(link + {{}}) || choices END, '') AS records
FROM response WHERE +survey = {{}} AND id >= {{}} AND id <= {{}}
"""
VERSIONS_SQL = f"""
SELECT DISTINCT respondent_group AS grp, questionnaire_id AS qid, questionnaire_version AS version
FROM response WHERE +survey = {{}} AND id >= {{}} AND id <= {{}} AND {COUNTED}
"""
# Walks the primary key from each end to the round's first and last response; an index on
# survey would make MIN/MAX read (and sort) every entry of the round.
BOUNDS_SQL = """
SELECT (SELECT id FROM response WHERE +survey = {} ORDER BY id LIMIT 1) AS low,
       (SELECT id FROM response WHERE +survey = {} ORDER BY id DESC LIMIT 1) AS high
"""


async def read(survey_id: int, links: list[dict], key_of_link: Mapping[int, tuple[str, str | None]],
               questionnaires: Mapping[str, object], dialect: tuple[str, str]) -> Aggregates | None:
    """Aggregates of the round, or None when the fast path does not apply."""
    concat, char = dialect
    bounds = (await Response.raw(BOUNDS_SQL, survey_id, survey_id))[0]
    out = Aggregates()
    if bounds["low"] is None:
        out.set_validity({"returned": 0})
        return out
    ids = [link["id"] for link in links]
    offset = FIRST_KEY - min(ids)
    if max(ids) + offset > LAST_KEY:
        return None
    sql = RANGE_SQL.format(counted=COUNTED, concat=concat, char=char, reasons=REASON_SUMS)
    # The version check runs beside the scan (another connection: it overlaps on both backends).
    versions, rows = await asyncio.gather(
        Response.raw(VERSIONS_SQL, survey_id, bounds["low"], bounds["high"]),
        Response.raw(sql, offset, survey_id, bounds["low"], bounds["high"]))
    counter_of_group = _counters(versions, questionnaires)
    if counter_of_group is None:
        return None
    row = rows[0]
    if not _decode(row["records"] or "", offset, key_of_link, counter_of_group, out, row):
        return None
    out.set_validity(row)
    return out


def _counters(versions: list[dict], questionnaires: Mapping[str, object]) -> dict[str, ItemCounter] | None:
    """Each group's questionnaire, if every group answered exactly one version on file."""
    counters: dict[str, ItemCounter] = {}
    for row in versions:
        questionnaire = questionnaires.get(row["qid"])
        if row["grp"] in counters or questionnaire is None or questionnaire.version != row["version"]:
            return None
        counters[row["grp"]] = ItemCounter(questionnaire)
    return counters


def _decode(records: str, offset: int, key_of_link, counter_of_group, out: Aggregates,
            sql_sums: dict) -> bool:
    widest = max((c.width for c in counter_of_group.values()), default=0)
    # Keys are below the surrogates, so UTF-16 is one unit per character; the padding lets the
    # last record have a full window.
    code = np.frombuffer((records + "\0" * (widest + 1)).encode("utf-16-le"), dtype=np.uint16)
    starts = np.flatnonzero(code >= FIRST_KEY)
    length = np.diff(starts, append=len(records)) - 1
    keys = sorted(set(key_of_link.values()), key=lambda k: (k[0], k[1] or ""))
    index_of = {key: k for k, key in enumerate(keys)}
    stratum_of_link = np.full(max(key_of_link) + 1, -1, dtype=np.int64)
    for link_id, key in key_of_link.items():
        stratum_of_link[link_id] = index_of[key]
    link = code[starts].astype(np.int64) - offset
    if len(link) and (link.min() < 0 or link.max() >= len(stratum_of_link)):
        return False
    stratum = stratum_of_link[link]
    group_index = {g: k for k, g in enumerate(sorted({k[0] for k in keys}))}
    group_of_row = np.array([group_index[k[0]] for k in keys] or [0])[stratum]
    windows = np.lib.stride_tricks.sliding_window_view(code, widest + 1)
    size, sums = len(keys), np.zeros((6, len(keys)))
    found = 0
    for group, counter in counter_of_group.items():
        rows = np.flatnonzero(group_of_row == group_index.get(group, -1))
        if (length[rows] != counter.width).any():
            return False
        rated = windows[starts[rows][:, None], 1 + counter.columns].astype(np.uint8)
        y, score = counter.respondent_values(rated)
        if np.isnan(y).any():
            return False
        s = stratum[rows]
        _add_sums(sums, s, y, score, size)
        out.add_items(counter.item_totals(counter.option_counts(rated, s, size), keys))
        found += len(rows)
    if found != len(starts) or not _agree(sums[1].sum(), sql_sums["sum_y"]) \
            or not _agree(sums[4].sum(), sql_sums["sum_score"]):
        return False
    for k, key in enumerate(keys):
        if sums[0, k] > 0:
            out.add_cell(key, int(sums[0, k]), sums[1, k], sums[2, k], int(sums[3, k]), sums[4, k], sums[5, k])
    return True


def _add_sums(sums: np.ndarray, stratum: np.ndarray, y: np.ndarray, score: np.ndarray | None,
              size: int) -> None:
    """n, Σy, Σy², then respondents with a score, Σscore, Σscore² per stratum."""
    sums[0] += np.bincount(stratum, minlength=size)
    sums[1] += np.bincount(stratum, weights=y, minlength=size)
    sums[2] += np.bincount(stratum, weights=y * y, minlength=size)
    if score is not None:
        scored = ~np.isnan(score)
        sums[3] += np.bincount(stratum[scored], minlength=size)
        sums[4] += np.bincount(stratum[scored], weights=score[scored], minlength=size)
        sums[5] += np.bincount(stratum[scored], weights=score[scored] ** 2, minlength=size)


def _agree(ours: float, stored: float | None) -> bool:
    """Σ recomputed from the codes equals the stored values' Σ (to rounding)."""
    stored = stored or 0.0
    return abs(ours - stored) <= 1e-9 * max(1.0, abs(stored))
