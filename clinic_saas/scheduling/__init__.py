"""Scheduling: rosters, free start times and bookings. Plain functions that flush, never commit."""
