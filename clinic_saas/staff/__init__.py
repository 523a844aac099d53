"""Staff: therapists' profiles, sites and rooms. Functions flush, never commit."""
