"""Domain rules and scheduled jobs of this capability; they never import flows."""
