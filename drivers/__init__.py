"""The hardware layer: devices, their drivers and simulators. Knows nothing of the kiosk."""
