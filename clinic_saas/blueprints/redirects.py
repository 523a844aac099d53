"""Where a form may send the browser back to: a path on this site, never another site."""

from __future__ import annotations

from urllib.parse import urlsplit


def local_path(target: str | None, within: str = "/") -> str | None:
    """`target` when it is a path of this site under `within`, else None (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(within):
        return None
    return target
