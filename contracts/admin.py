"""Admin pages of contracts."""
