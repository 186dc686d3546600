"""The integration API (``/api/v1``), authorised by bearer tokens."""
