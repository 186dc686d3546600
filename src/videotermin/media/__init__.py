"""Media the server itself touches: only the echo peer of the test call, and ICE settings."""
