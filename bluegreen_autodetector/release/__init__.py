"""The next release: promotion of pending cleanups, and eject."""
