"""ESC/POS receipt printers: status (DLE EOT), the receipt layout, and the driver.

See docs/protocols/escpos.md. The driver is :class:`devices.escpos.driver.EscposPrinter`.
"""
