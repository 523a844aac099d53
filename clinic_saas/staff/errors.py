class StaffError(ValueError):
    """A change to profiles, sites or rooms that cannot be made; str() is for people."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
