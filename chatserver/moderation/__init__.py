"""Report, mute, block, remove, slow mode, suspension: protection without identities."""
