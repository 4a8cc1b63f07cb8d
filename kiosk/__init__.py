"""Utility payment kiosk: the appliance core.

Nothing in this package imports Kivy, pyserial, python-escpos or requests: the core talks to
the hardware, the screen and the hub only through the ports in :mod:`kiosk.ports`.
"""

__version__ = "0.1.0"
