"""Test support shared by every app: local fake HTTP servers and fixtures."""
