"""``python -m marianne_lint``."""

from marianne_lint.cli import main

raise SystemExit(main())
