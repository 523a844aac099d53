"""Clinical records: intake forms, red flags, treatment notes, and the audit trail of reads."""
