"""`/newevent` (in `flow`): its questions, grouped by what they ask about, and publishing."""
