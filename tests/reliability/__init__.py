"""Cross-cutting suites: behaviours of the whole stack rather than of one module, so they mirror no
room of bot/. Real bot processes killed (kill -9), stopped (SIGSTOP) or run as replicas on one
PostgreSQL database; hostile inputs, provider and platform faults and secrets followed from the
platform event to the provider and back. A failure here names a behaviour; the module-level
tests (tests/<room>/) say which part broke."""
