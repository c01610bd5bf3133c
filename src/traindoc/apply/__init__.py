"""Stage: apply."""
