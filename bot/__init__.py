"""Application wiring: settings, the CLI, transports, delivery, scheduling and i18n."""
