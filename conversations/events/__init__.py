"""Events: creating and publishing them, invitations and answers, the waiting list,
reminders, changes and cancellations, and the coordinator's view of who is coming."""
