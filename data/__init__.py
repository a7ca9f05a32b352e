"""costkit's curated data tables (installed as ``costkit.data``; see README.md here)."""
