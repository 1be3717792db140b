"""Answers a county can defend: the hash chain, its verification, and the purge of signal hashes."""
