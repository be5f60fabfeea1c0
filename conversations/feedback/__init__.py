"""After an event: journey feedback step by step, the snap-log of photos and voice notes,
and the coordinator's report."""
