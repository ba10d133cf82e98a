"""Static data (SDE)."""
