"""The Kivy screens. One screen = one .py + one .kv; no I/O: screens call kiosk/ services."""
