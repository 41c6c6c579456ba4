"""The rules, pure: the campaign file and what is evaluated from it (no I/O)."""
