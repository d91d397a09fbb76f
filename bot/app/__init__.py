"""The application layer: the use cases every platform's adapter calls, and the machinery that
runs them (inbox, outbox, confirmations, spool, health, the processes). Platform-free."""
