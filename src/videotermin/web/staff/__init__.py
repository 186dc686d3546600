"""Staff pages and sockets: login, appointments, the live list and the advisor's call."""
