"""Videotermin: video appointments between a public agency and its citizens."""

__version__ = "0.1.0"
