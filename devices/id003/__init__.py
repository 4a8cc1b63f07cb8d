"""JCM ID-003 bill acceptor support (iVIZION, UBA and the other JCM validators).

``framing`` builds and finds frames, ``messages`` names the codes and encodes and decodes
what is in them, ``tracker`` decides what a status means for the kiosk, and ``driver`` is
the :class:`kiosk.ports.BillAcceptor` port that ties them to a serial line. The emulator
that speaks the device side is :mod:`devices.emulators.id003_emulator`. The rules, with
the sections of the specification they come from, are in ``docs/protocols/id003.md``.

Nothing is imported here: ``framing`` and ``messages`` are codecs that import nothing from
the kiosk, and importing them must not drag the driver (and the kiosk) in with them.
"""
