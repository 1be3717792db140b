"""Helpers the tests share: databases and servers, answer forms, console sessions, generated respondents,
reference data. Test modules import from here, never from each other."""
