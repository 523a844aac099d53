from ..refusals import Refusal


class AccountError(Refusal):
    """A request about accounts or membership that cannot be carried out; str() is for people."""
