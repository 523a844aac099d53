"""Invoices: drafting, numbering, issuing, voiding and crediting, and what each one still owes."""
