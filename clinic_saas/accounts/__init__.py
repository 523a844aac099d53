"""Accounts: passwords, signed links, signup, invitations. Functions flush, never commit."""
