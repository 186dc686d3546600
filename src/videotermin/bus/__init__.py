"""The real-time bus: events that every app instance hears (memory or Redis pub/sub)."""
