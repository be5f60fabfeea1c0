"""Repositories: the queries each part of the bot needs, over one session, one module
an aggregate. `storage.unit_of_work` makes them; import a name from its own module."""
