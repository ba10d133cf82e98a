"""Database models of accounts."""
