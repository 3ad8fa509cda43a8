"""Python rules and skill-evidence detectors (``rules/``) and their queries (``queries/``)."""
