"""Stage: diagnosis."""
