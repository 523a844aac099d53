"""Encryption at rest for clinical content: MultiFernet over keys from CLINICAL_DATA_KEYS.

Keys are listed newest first, comma-separated. New values are encrypted with the first key; any
listed key decrypts, so a new key can be put in front, `flask reencrypt-clinical` run, and the old
key removed afterwards. Columns of these types hold Fernet tokens only (authenticated, with a
timestamp), never the plaintext, so a database dump or a replica leaks no health data.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app
from sqlalchemy import Text, TypeDecorator


class ClinicalKeyError(RuntimeError):
    """CLINICAL_DATA_KEYS is empty or holds something that is not a Fernet key."""


def parse_keys(value: str | None) -> list[Fernet]:
    keys = [k.strip() for k in (value or "").split(",") if k.strip()]
    if not keys:
        raise ClinicalKeyError("CLINICAL_DATA_KEYS holds no key")
    try:
        return [Fernet(k) for k in keys]
    except ValueError as exc:
        raise ClinicalKeyError(
            "CLINICAL_DATA_KEYS must hold url-safe base64 Fernet keys of 32 bytes"
        ) from exc


def fernet() -> MultiFernet:
    """The app's MultiFernet, built once per app and per key setting."""
    setting = current_app.config["CLINICAL_DATA_KEYS"]
    cached = current_app.extensions.get("clinical_fernet")
    if cached is None or cached[0] != setting:
        cached = (setting, MultiFernet(parse_keys(setting)))
        current_app.extensions["clinical_fernet"] = cached
    return cached[1]


def encrypt_text(value: str) -> str:
    return fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt_text(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise ClinicalKeyError(
            "clinical data cannot be decrypted with the keys in CLINICAL_DATA_KEYS"
        ) from exc


def rotate_token(token: str) -> str:
    """The same plaintext under the newest key (used by the re-encryption command)."""
    try:
        return fernet().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise ClinicalKeyError("a stored value cannot be decrypted with any listed key") from exc


class EncryptedText(TypeDecorator):
    """A str stored as a Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else encrypt_text(value)

    def process_result_value(self, value, dialect):
        return None if value is None else decrypt_text(value)


class EncryptedJSON(TypeDecorator):
    """A JSON document (dict or list) stored as one Fernet token."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return encrypt_text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(decrypt_text(value))
