class AccountError(ValueError):
    """A request about accounts or membership that cannot be carried out; str() is for people."""
