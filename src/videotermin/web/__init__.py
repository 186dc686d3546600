"""HTTP and WebSocket routes, grouped by audience: citizen, staff, admin, api, ws."""
