"""What clinics sold: package sales and their sessions, memberships and their periods,
and what pays for a completed session."""
