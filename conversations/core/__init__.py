"""The machinery every flow stands on: neutral messages, flows, the engine, matching,
dates, translations, deep links and the services rules are given."""
