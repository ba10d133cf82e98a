"""Admin pages of routing."""
