"""Pages and sockets a citizen reaches through their personal link, and the public device check."""
