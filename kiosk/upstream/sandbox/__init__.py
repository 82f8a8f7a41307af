"""A stand-in for the government platform: the API of docs/upstream-api.md over its own SQLite.

``kiosk upstream-sandbox --listen HOST:PORT --db FILE [--pace S]`` runs it (``server``);
``process.SandboxProcess`` runs it in a child process for tests and the demo. The rules
cases follow are in ``rules``; faults that can be switched on at run time in ``faults``.
Never imported by the terminal's app.
"""
