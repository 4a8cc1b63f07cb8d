"""The kiosk's side of the hub protocol."""
