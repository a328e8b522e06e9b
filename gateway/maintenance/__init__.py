"""Keeping a serving gateway's data: retention of bodies, backup and restore (DESIGN §4.7;
the commands are in gateway.cli.maintenance)."""
