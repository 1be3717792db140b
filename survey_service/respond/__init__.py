"""The submission rules: answers checked and scored, signed form nonces, who-sent-it signals, rate
limits and quality flags; the answer row it hands to the ledger (schemas.AnswerRow)."""
