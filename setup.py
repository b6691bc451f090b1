"""What a wheel holds: the packages found under ``fer`` and ``serve``, plus the served models.

The models live in the checkout's ``models/`` (where training writes them); the wheel carries their cards,
``.tflite`` and ``.keras`` files as ``fer/models/`` (:func:`fer.locations.models_dir` finds them there).
The rest of the configuration is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["fer", "fer.*", "serve", "serve.*"]), "fer.models"],
    package_dir={"fer.models": "models"},
    package_data={"fer.models": ["*.json", "*.tflite", "*.keras"]},
)
