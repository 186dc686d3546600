"""Real-time: the bus between app instances, presence, the waiting room, signaling."""
