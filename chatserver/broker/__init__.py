"""chatserver/broker."""
