"""The government platform, seen from the terminal: its options, its client and its sandbox.

``client`` speaks the platform's HTTPS/JSON API (docs/upstream-api.md) with the standard
library only; ``sandbox`` is a stand-in server for tests and the demo (FastAPI, never
imported by the app).
"""
