"""Payments: Stripe through one gateway (stripe_gateway.py, the only importer of `stripe`),
Connect onboarding (onboarding.py) and the errors people see (errors.py)."""
