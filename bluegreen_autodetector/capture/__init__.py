"""Cleanup SQL from each vendor's schema editor; never reads a schema."""
