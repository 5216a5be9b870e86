"""The `pdm` command line."""
