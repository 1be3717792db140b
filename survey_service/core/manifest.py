"""SHA-256 manifests for exported files, in `sha256sum` format (checked with `sha256sum -c`)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from pathlib import Path

MANIFEST_NAME = "MANIFEST.sha256"


def manifest(files: Mapping[str, bytes]) -> str:
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items())


def repr_digest(data: bytes) -> str:
    """The RFC 9530 `Repr-Digest` header value for a downloaded file."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"


def write_with_manifest(path: Path, data: bytes) -> Path:
    """Write `path` and, beside it, `path.sha256`; returns the manifest's path."""
    path.write_bytes(data)
    sidecar = path.with_name(path.name + ".sha256")
    sidecar.write_text(manifest({path.name: data}), encoding="utf-8")
    return sidecar
