"""Scenario files shipped with costkit (see costkit.scenario.example_path)."""
