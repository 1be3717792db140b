"""The text of an uploaded or given CSV file."""

from __future__ import annotations

# Excel on a Chinese Windows saves CSV as GB18030 (GBK), not UTF-8: both are read.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


def csv_text(content: bytes) -> str | None:
    """The file's text in UTF-8 (with or without a BOM) or GB18030; None when it is neither."""
    for encoding in CSV_ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
