"""The respondent path: the answer page, the JSON API, and the durable write path."""
