"""chatserver."""
