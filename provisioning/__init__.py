"""Enrollment, device detection, doctor checks and deployment files."""
