"""The questionnaire file format.

A file declares its answer scale once; per option, whether it counts as 认可 and its score.
An option marked `excluded` (不了解) is left out of the denominator: neither 认可 nor not.
"""

from __future__ import annotations

import enum
import functools
from typing import Annotated, Literal

import msgspec

from survey_service.core.groups import Group

Identifier = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ItemKind(enum.StrEnum):
    scale = "scale"  # rated on the questionnaire's scale; counts towards recognition
    choice = "choice"  # single choice from the item's own options; not rated
    text = "text"  # free text (意见建议)


class Option(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    code: Identifier
    label: Text
    recognised: bool = False
    excluded: bool = False
    score: Annotated[float, msgspec.Meta(ge=0, le=100)] | None = None


class Item(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    id: Identifier
    text: Text
    kind: ItemKind = ItemKind.scale
    required: bool = True
    weight: Annotated[float, msgspec.Meta(gt=0, le=1000)] = 1.0
    # Only for kind = "choice".
    options: Annotated[list[Option], msgspec.Meta(max_length=36)] = []
    # Only for kind = "text".
    max_length: Annotated[int, msgspec.Meta(ge=1, le=5000)] = 500


class Translation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Every text of the questionnaire in one other language; the loader refuses one that misses
    any (questionnaire/languages.py). Either a `[translations.<tag>]` table in the questionnaire's
    file, or a file of its own beside it: `social.ug.toml`."""

    # The language's name in itself (ئۇيغۇرچە): the link that offers it.
    name: str | None = None
    # Only for a tag that does not say: `ky` (Arabic script in Xinjiang, Cyrillic elsewhere).
    direction: Literal["ltr", "rtl"] | None = None
    title: str | None = None
    introduction: str | None = None
    items: dict[str, str] = {}
    options: dict[str, str] = {}


# dict=True: room for the cached properties below (read on every submission).
class Questionnaire(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True, dict=True):
    id: Identifier
    version: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    title: Text
    introduction: Text
    groups: Annotated[list[Group], msgspec.Meta(min_length=1)]
    scale: Annotated[list[Option], msgspec.Meta(min_length=2, max_length=36)]
    items: Annotated[list[Item], msgspec.Meta(min_length=1, max_length=64)]
    # The id of one scale item whose answer alone decides a respondent's recognition (0 or 1).
    overall_item: str | None = None
    # Other languages than 简体中文, keyed by language tag (e.g. "ug").
    translations: dict[str, Translation] = {}

    def options_for(self, item: Item) -> list[Option]:
        return self.scale if item.kind is ItemKind.scale else item.options

    @functools.cached_property
    def rated_items(self) -> list[Item]:
        return [item for item in self.items if item.kind is ItemKind.scale]
