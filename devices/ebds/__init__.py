"""EBDS (Pyramid/MEI "Mars compatible" RS-232) bill acceptor support.

``framing`` builds and finds frames, ``messages`` encodes and decodes what is in them,
``tracker`` decides what a reply means for the kiosk, and ``driver`` is the
:class:`kiosk.ports.BillAcceptor` port that ties them to a serial line. The emulator that
speaks the device side is :mod:`devices.emulators.ebds_emulator`.

Nothing is imported here: ``framing`` and ``messages`` are codecs that import nothing from
the kiosk, and importing them must not drag the driver (and the kiosk) in with them.
"""
