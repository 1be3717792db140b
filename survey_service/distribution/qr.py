"""QR codes for links, as PNG or SVG, encoding the link's absolute URL; plain, or captioned with whose
code it is."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import unicodedata
from pathlib import Path
from xml.sax.saxutils import escape

import qrcode
import qrcode.image.svg
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo
from qrcode.constants import ERROR_CORRECT_M


def _qr(url: str) -> qrcode.QRCode:
    # Medium error correction survives a crease or a smudge on a printed poster.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str) -> bytes:
    buffer = io.BytesIO()
    _qr(url).make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    buffer = io.BytesIO()
    _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathImage).save(buffer)
    return buffer.getvalue()


QR_FORMATS = {"png": (qr_png, "image/png"), "svg": (qr_svg, "image/svg+xml")}


# A caption under a code: the school's name and the group, so a saved or printed image says whose it
# is. Drawn into a PNG with a CJK font when the server has one; otherwise (no font found) the captioned
# image is an SVG whose caption is text, drawn by the viewer's own fonts (every Chinese system has one).
CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "C:/Windows/Fonts/simsun.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Light.ttc",
)
SVG_FONTS = "'Microsoft YaHei','PingFang SC','Noto Sans CJK SC','WenQuanYi Micro Hei',SimHei,sans-serif"
CAPTION_PX = 30  # the caption's font size in a PNG whose modules are 10 px


@functools.cache
def cjk_font() -> str | None:
    """A font file that draws Chinese: a known path, else the first fontconfig lists for zh; None if none."""
    for path in CJK_FONT_FILES:
        if Path(path).is_file():
            return path
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listed = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = sorted(line.strip().rstrip(":") for line in listed.splitlines() if line.strip())
    return next((path for path in found if path.lower().endswith((".ttc", ".ttf", ".otf"))), None)


def clean_caption(text: str) -> str:
    """A caption's text as safe to draw or put in XML: no control or format characters (a roster may
    hold anything), spaces collapsed."""
    kept = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return " ".join(kept.split())


def _wrapped(text: str, fits) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if line and not fits(line + ch):
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def captioned_png(url: str, caption: list[str], font_path: str) -> bytes:
    """The code with its caption lines drawn beneath it (long lines wrapped), and the caption kept as the
    PNG's Title too."""
    code = _qr(url).make_image().get_image().convert("L")
    font = ImageFont.truetype(font_path, CAPTION_PX)
    width = max(code.width, 480)
    margin = 20
    lines = [
        wrapped
        for text in map(clean_caption, caption)
        for wrapped in _wrapped(text, lambda t: font.getlength(t) <= width - 2 * margin)
    ]
    step = CAPTION_PX + 10
    image = Image.new("L", (width, code.height + step * len(lines) + margin), 255)
    image.paste(code, ((width - code.width) // 2, 0))
    draw = ImageDraw.Draw(image)
    for k, line in enumerate(lines):
        draw.text((width / 2, code.height - 10 + k * step), line, fill=0, font=font, anchor="mt")
    info = PngInfo()
    info.add_itxt("Title", " ".join(map(clean_caption, caption)))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


def captioned_svg(url: str, caption: list[str]) -> bytes:
    """The code as squares, with its caption lines as text beneath (the viewer's fonts draw it)."""
    matrix = _qr(url).get_matrix()
    size = len(matrix)
    dark = "".join(f"M{x},{y}h1v1h-1z" for y, row in enumerate(matrix) for x, module in enumerate(row) if module)
    em = 2.2  # font size in modules
    per_line = max(int((size - 2) / em), 4)  # CJK characters are about 1 em wide
    lines = [
        wrapped for text in map(clean_caption, caption) for wrapped in _wrapped(text, lambda t: len(t) <= per_line)
    ]
    height = size + em * 1.4 * len(lines) + 1
    texts = "".join(
        f'<text x="{size / 2}" y="{size - 1 + em * (1 + 1.4 * k):.2f}">{escape(line)}</text>'
        for k, line in enumerate(lines)
    )
    title = escape(" ".join(map(clean_caption, caption)))
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {height:.2f}" '
        f'width="{size * 10}" height="{height * 10:.0f}">'
        f"<title>{title}</title>"
        f'<rect width="{size}" height="{height:.2f}" fill="#fff"/>'
        f'<path d="{dark}" fill="#000"/>'
        f'<g font-family="{SVG_FONTS}" font-size="{em}" text-anchor="middle" fill="#000">{texts}</g>'
        "</svg>\n"
    )
    return svg.encode("utf-8")


def captioned(url: str, caption: list[str], fmt: str = "png") -> tuple[str, bytes]:
    """(format, image): the PNG asked for when a CJK font is found, else the SVG (its caption as text)."""
    font = cjk_font()
    if fmt == "png" and font is not None:
        return "png", captioned_png(url, caption, font)
    return "svg", captioned_svg(url, caption)


CAPTIONED_TYPES = {"png": "image/png", "svg": "image/svg+xml"}
