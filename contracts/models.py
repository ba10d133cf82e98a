"""Database models of contracts."""
