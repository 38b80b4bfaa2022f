"""One-to-one support: topic queues of seekers, listener seats, and atomic pairing."""
