"""Database models of universe."""
