"""Background jobs that run inside the app process: outbox delivery, retention purge."""
