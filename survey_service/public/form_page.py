"""The answer page, rendered once and served many times: each link's form is rendered once per
questionnaire version and language, and each request fills in only what is its own, the form's
nonce (the device cookie is a header). Gzip is prepared once too.

Rendering the page with Jinja took about 0.75 ms of CPU per request (in-process, before), and
gzipping it per request would have cost another 0.15 ms; now the whole GET costs the web worker
about 30 µs in-process beside a bare Litestar route's 20 µs.

The key of a rendered page is everything it shows: the link's context (round title, county, window,
school name, group, questionnaire, whether it asks an access code: distribution/service.py
LinkContext),
the questionnaire's version, the language, and whether it carries the 再填一份 note. A change to the
round, its roster or its links makes a new LinkContext, so the next request renders the new page: a
rendered page is never staler than the link cache (SURVEY_LINK_CACHE_SECONDS) it is keyed on.

Gzip with a nonce that changes per request, without compressing per request: the page is split at
the nonce. The part before it is deflated once and ends on a sync flush (byte-aligned, no block
open); the nonce goes in as a stored (uncompressed) deflate block; the part after it is deflated
once as the stream's last blocks, with the part before and a gap of the nonce's length as its
dictionary (the gap is NUL bytes, which the page never contains, so no back-reference lands in the
nonce). Per request: that, the CRC-32 of the bytes after the nonce, and the gzip trailer. Any
gzip decoder reads it as one ordinary member (RFC 1951 blocks, RFC 1952 member).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Hashable

# What the nonce is rendered as, once: letters only, so no escaping changes it; it must occur once.
NONCE_SLOT = "NonceSlot9f2c4e1a7b"
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # deflate, no name, no time, best compression
WINDOW = 32 * 1024  # deflate's back-references reach this far
MAX_PAGES = 1024  # a county's links × languages, with room for the pages a round's edits leave behind


class FormPage:
    """One rendered form, split at its nonce, with its gzip parts."""

    __slots__ = ("head", "tail", "_gzip_head", "_crc_head", "_gzip_tails")

    def __init__(self, html: str):
        head, slot, tail = html.encode().partition(NONCE_SLOT.encode())
        if not slot or NONCE_SLOT.encode() in tail:
            raise ValueError("the form must show its nonce exactly once")
        self.head, self.tail = head, tail
        compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
        self._gzip_head = GZIP_HEADER + compressor.compress(head) + compressor.flush(zlib.Z_SYNC_FLUSH)
        self._crc_head = zlib.crc32(head)
        self._gzip_tails: dict[int, bytes] = {}

    def plain(self, nonce: bytes) -> bytes:
        return b"".join((self.head, nonce, self.tail))

    def gzipped(self, nonce: bytes) -> bytes:
        size = len(nonce)
        tail = self._gzip_tails.get(size) or self._gzip_tail(size)
        crc = zlib.crc32(self.tail, zlib.crc32(nonce, self._crc_head))
        total = len(self.head) + size + len(self.tail)
        stored = struct.pack("<BHH", 0, size, size ^ 0xFFFF)  # a stored block, not the last
        return b"".join((self._gzip_head, stored, nonce, tail, struct.pack("<II", crc, total & 0xFFFFFFFF)))

    def _gzip_tail(self, gap: int) -> bytes:
        """The deflate blocks of the part after a nonce of `gap` bytes (every nonce of one kind has one
        length: the page has one or two of these)."""
        if b"\0" in self.tail:  # no such page; without a dictionary it stays correct
            compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9)
        else:
            window = (self.head + b"\0" * gap)[-WINDOW:]
            compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS, 9, zlib.Z_DEFAULT_STRATEGY, window)
        tail = self._gzip_tails[gap] = compressor.compress(self.tail) + compressor.flush(zlib.Z_FINISH)
        return tail


class FormPages:
    """Rendered forms by what they show (see the module's docstring), in this worker; the oldest go
    first beyond MAX_PAGES."""

    def __init__(self, max_pages: int = MAX_PAGES):
        self._pages: dict[Hashable, FormPage] = {}
        self._max = max_pages

    def get(self, key: Hashable, render: Callable[[], str]) -> FormPage:
        """The page for `key`, rendered by `render` (with NONCE_SLOT for the nonce) the first time."""
        page = self._pages.get(key)
        if page is None:
            while len(self._pages) >= self._max:
                del self._pages[next(iter(self._pages))]
            page = self._pages[key] = FormPage(render())
        return page

    def __len__(self) -> int:
        return len(self._pages)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header takes gzip (RFC 9110 12.5.3): named (or x-gzip, or `*` when
    gzip is not named) with a q-value above 0."""
    star = None
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip()
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if coding in ("gzip", "x-gzip"):
            return quality > 0
        if coding == "*":
            star = quality > 0
    return bool(star)
