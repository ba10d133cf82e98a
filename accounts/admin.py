"""Admin pages of accounts."""
