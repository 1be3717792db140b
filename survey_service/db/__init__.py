"""The database: one Piccolo engine per process, chosen by the settings."""
