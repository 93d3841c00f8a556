"""``python -m ananke``: the same as the ``arc`` command."""

from .cli import main

if __name__ == "__main__":
    main()
