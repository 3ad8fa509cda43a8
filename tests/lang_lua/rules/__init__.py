"""Lua's rules: each module lists its ``RULES``."""
