"""Admin pages of market."""
