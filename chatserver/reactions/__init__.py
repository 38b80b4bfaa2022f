"""Supportive reactions: who gave which reaction to which message, per room, bounded and
expiring with the replay history."""
