"""ZVT (the German ECR-terminal protocol, "ZVT-Kassenschnittstelle") card terminal support.

``framing`` and ``link`` are the serial transport protocol (DLE framing, CRC, ACK/NAK,
repeats); ``transport`` carries APDUs over a serial line or TCP; ``apdu``, ``bmp``, ``tlv``
and ``codes`` encode and decode the messages; ``session`` runs one command with the
terminal; ``ledger`` is the driver's own record of each sale; ``recovery`` decides what
became of a sale whose answer was lost; ``driver`` is the :class:`kiosk.ports.CardTerminal`
port. The terminal side is :mod:`devices.emulators.zvt_emulator`. See docs/protocols/zvt.md.

Nothing is imported here: ``framing``, ``tlv``, ``bmp``, ``apdu`` and ``codes`` are codecs
that import nothing from the kiosk, and importing them must not drag the driver in.
"""
