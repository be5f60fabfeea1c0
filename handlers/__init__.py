"""What happens on a command, a button or a message: routing, authorisation, errors."""
