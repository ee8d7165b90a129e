"""The version of renyimi: the single source, read by ``pyproject.toml`` (setuptools' ``attr:``) and ``renyimi``.

Keep this file a single literal assignment: setuptools reads it statically, without importing the package.
"""

__version__ = "0.1.0"
