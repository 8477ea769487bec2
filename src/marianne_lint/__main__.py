"""``python -m marianne_lint``."""

from marianne_lint.commands.lint import main

raise SystemExit(main())
