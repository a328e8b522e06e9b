"""The embedded bus (SQLite file): `bus.LocalBus`, its index, storage and group-commit writer."""
