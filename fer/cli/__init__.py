"""The command line, ``python -m fer predict|evaluate|compare|video|batch|bench|convert`` (``fer.cli.main``)."""
