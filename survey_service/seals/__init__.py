"""The keyed records of tamper evidence that live in the database: each round's sealed record (what a
published figure depends on), the switch of the answers' hash chain to its key, and the checkpoints."""
