"""Marshmallow schemas per domain: how records are dumped for each audience (dump only)."""
