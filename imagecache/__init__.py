"""Image cache."""
