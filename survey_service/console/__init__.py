"""The bureau console and the school portal at /console: rounds, roster, distribution kit, progress."""
