"""What the bot does, written once for every platform: one folder per capability.

`core/` is the machinery (neutral messages, the flow engine, matching, dates); each other
folder is something a person would name: `people/` (joining, settings, your data),
`events/` (creating, inviting, answering, reminding), `tasks/` (a hand with a task, offers of
help), `initiatives/` (citizens' own), `feedback/` (how it went, photos, the report).
Inside a capability, `flows/` are the conversations (one module per flow, named after what
the person does) and `rules/` the domain logic and scheduled jobs the flows and the scheduler
call. Rules never import flows.
"""
