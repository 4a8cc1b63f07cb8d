"""Device-side emulators that speak each device's real protocol on a pseudo-terminal."""
