"""Command-line scripts: services set-up and SDE ingestion."""
