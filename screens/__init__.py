"""The resident's touchscreen (Kivy)."""
