"""The respondent's HTTP surface: the answer page and its post, the JSON API, QR codes, the results API."""
