"""Publishing readings: the one path HTTP, CLI and the simulator use to reach the readings topic."""
