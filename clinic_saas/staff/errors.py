"""The one refusal of the staff domain."""

from ..refusals import Refusal


class StaffError(Refusal):
    """A change to profiles, sites or rooms that cannot be made; str() is for people."""
