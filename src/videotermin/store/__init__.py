"""Persistence: SQLAlchemy models, the engine, migrations and queries."""
