"""Tasks and offers: taking a hand with a task, the organiser's task list, offers of help
and the messages carried between a coordinator and the person offering."""
