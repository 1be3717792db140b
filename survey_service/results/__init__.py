"""Results of a round: the weighted 社会认可度 against the target, from the database or from CSV files."""
