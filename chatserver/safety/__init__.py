"""chatserver/safety."""
