"""The finance console's staff: accounts and roles, two-factor sign-in, sessions, audit.

The numbers are PCI DSS 4.0 requirement 8's: passwords of 12 or more characters with
letters and digits, a TOTP code on every sign-in, 10 failures lock an account for 30
minutes, 15 minutes idle signs out. See docs/hub.md, "Staff and the console".
"""
