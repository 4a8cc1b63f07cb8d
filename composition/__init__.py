"""The composition root: the ``kiosk`` command, its subcommands, the wiring that assembles a
running kiosk from its configuration and adapters, and the demo.

The only package that imports every adapter (devices, screens, sync, provisioning) and the
core together; nothing imports it back (tests/test_architecture.py keeps both rules).
"""
