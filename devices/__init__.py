"""Device drivers and their stand-ins; each implements a port declared in ``kiosk.ports``."""
