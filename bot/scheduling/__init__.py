"""Schedules: the leader lease, APScheduler wiring and the module-level jobs it runs."""
