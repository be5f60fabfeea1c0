"""Citizens' own initiatives: posting one, the list and its moderation, pushing within limits."""
