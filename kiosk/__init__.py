"""The terminal application core. Imports drivers/, never Kivy."""
