"""The fleet: the protocol both sides share (``fleet.protocol``) and the manager's side."""
