"""The central endpoint kiosks replicate to."""
