"""Admin pages of esi."""
