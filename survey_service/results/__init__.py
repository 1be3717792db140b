"""Results of a round: the weighted 社会认可度 against the target, its design and strata, progress
against the quotas, and the report tables, workbook and Markdown; from the database or from files."""
