"""Database models of esi."""
