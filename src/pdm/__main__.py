"""`python -m pdm` runs the pdm command line."""

from pdm.cli.main import app

app()
