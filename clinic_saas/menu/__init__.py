"""The menu: services and their prices, packages and memberships. Functions flush, never commit."""
