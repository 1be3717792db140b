"""The QR ZIP as a bureau or school unpacks it: every image captioned with its school and group (drawn
into the PNG; as SVG text when the server has no CJK font), every file named readably, and a roster's
hostile codes and names (separators, .., quotes, control characters) neither escaping the archive nor
breaking it on Windows."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
from PIL import Image

from support.qr import decode_png, decode_svg
from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.core.manifest import MANIFEST_NAME
from survey_service.distribution import qr
from survey_service.distribution.export import qr_filenames
from survey_service.distribution.kit import qr_zip
from survey_service.distribution.service import LinkRow

WINDOWS_REFUSED = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
HOSTILE = [
    ("../../etc", "..\\..\\校名"),
    ("A/1", '引号"学校"<b>'),
    ("A\\1", "控制\x00字符\x1b\u202e学校"),
    ("CON.", " . "),
    ("WQ01", "乌恰县第一小学" * 20),
]


def row(code: str, name: str, group: Group, token: str) -> LinkRow:
    return LinkRow(
        survey=1,
        school_code=code,
        school_name=name if code else "全县",
        group=group,
        group_label=GROUP_LABELS[group],
        token=token,
        url=f"https://survey.example/s/{token}",
    )


def rows() -> list[LinkRow]:
    made = [
        row(code, name, group, f"tok{k}{group.value[:3]}")
        for k, (code, name) in enumerate(HOSTILE)
        for group in (Group.parent, Group.principal)
    ]
    return made + [row("", "", Group.deputy, "tokdeputy"), row("", "", Group.public, "tokpublic")]


def unpacked(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    return {name: archive.read(name) for name in archive.namelist() if name != MANIFEST_NAME}


def test_every_png_is_captioned_and_named_safely(tmp_path):
    links = rows()
    files = unpacked(qr_zip(links))
    names = list(files)
    assert len(names) == len(links) and len({name.lower() for name in names}) == len(names)
    assert names[:2] == ["etc-校名-家长.png", "etc-校名-校长.png"]
    assert "WQ01-" + "乌恰县第一小学" * 5 + "乌恰县第一-家长.png" in names  # the name cut at 40 characters
    assert names[-2:] == ["全县-人大代表、政协委员.png", "全县-其他群众.png"]
    for name in names:
        assert not WINDOWS_REFUSED.search(name) and ".." not in name and "\u202e" not in name, name
        assert name.count(".") == 1 and len(name.encode()) < 200, name
    # Unpacked, every file lands in the folder it is unpacked into.
    zipfile.ZipFile(io.BytesIO(qr_zip(links))).extractall(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted([*names, MANIFEST_NAME])

    by_name = dict(zip(qr_filenames(links, "png"), links))
    for name, data in files.items():
        link = by_name[name]
        assert decode_png(data) == link.url, name
        image = Image.open(io.BytesIO(data))
        title = image.text["Title"]
        assert f"{link.group_label}问卷" in title and qr.clean_caption(link.school_name)[:10] in title, title
        # The caption is drawn: dark pixels under the code (the plain code's height, less its white margin).
        code_height = Image.open(io.BytesIO(qr.qr_png(link.url))).height
        below = np.asarray(image.convert("L"))[code_height - 20 :]
        assert image.height > code_height and (below < 128).sum() > 200, name


def test_without_a_cjk_font_the_images_are_svg_with_the_caption_as_text(monkeypatch):
    monkeypatch.setattr(qr, "cjk_font", lambda: None)
    links = rows()
    files = unpacked(qr_zip(links))
    assert all(name.endswith(".svg") for name in files)
    assert "etc-校名-家长.svg" in files and "全县-其他群众.svg" in files
    by_name = dict(zip(qr_filenames(links, "svg"), links))
    for name, data in files.items():
        link = by_name[name]
        svg = data.decode()
        assert decode_svg(data) == link.url, name
        assert f">{link.group_label}问卷</text>" in svg and "\x1b" not in svg and "<b>" not in svg, name
    # A name's markup stays text: escaped in the SVG, never an element.
    assert '引号"学校"&lt;b&gt;</text>' in files["A 1-引号 学校 b-家长.svg"].decode()


def test_a_cjk_font_is_found_by_fontconfig_when_no_known_path_has_one(monkeypatch):
    monkeypatch.setattr(qr, "CJK_FONT_FILES", ())
    qr.cjk_font.cache_clear()
    try:
        found = qr.cjk_font()
    finally:
        qr.cjk_font.cache_clear()
    assert found is not None and found.endswith((".ttc", ".ttf", ".otf"))
