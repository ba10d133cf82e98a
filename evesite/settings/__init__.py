"""Settings: ``production`` (the default) and ``test``, from ``base`` and one module per integration."""
