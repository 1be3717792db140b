"""The durable write engine: the response writer (group commit), its process on SQLite, the store,
the hash chain and the running tallies."""
