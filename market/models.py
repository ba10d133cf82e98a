"""Database models of market."""
