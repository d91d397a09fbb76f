"""Schedules: APScheduler wiring run by the lease holder, and the module-level jobs it runs."""
