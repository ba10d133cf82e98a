"""Database models of routing."""
