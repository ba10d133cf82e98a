"""Admin pages of universe."""
