"""ESI client."""
