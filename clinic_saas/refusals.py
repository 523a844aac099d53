"""Refusals: what the clinic's rules will not do as asked, worded for the person who asked.

Every domain error a page or the API shows is a Refusal, so that views handle them one way: the
request's writes are dropped and the message is shown beside the field it concerns, or as a
flash; one that no view catches answers its HTTP `status` with the message. Programming errors
(a query outside a clinic, a write to a signed record) are RuntimeErrors, never Refusals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class Refusal(ValueError):
    """A request refused by the rules; str() is for people, `field` or `fields` say where."""

    status: ClassVar[int] = 400

    def __init__(
        self, message: str, field: str | None = None, *, fields: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.fields: dict[str, str] = dict(fields or {})

    @property
    def message(self) -> str:
        """The message for people, as str() gives it."""
        return str(self)


class Conflict(Refusal):
    """Refused because of the current state of things (a clash, a change meanwhile): HTTP 409."""

    status = 409


class Gone(Refusal):
    """Refused because what was asked for is used up or expired for good: HTTP 410."""

    status = 410
