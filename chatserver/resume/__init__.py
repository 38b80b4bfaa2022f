"""Where a dropped session waits to be resumed, possibly on another node."""
