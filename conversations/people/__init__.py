"""People: joining (consent, name, language, interests), settings, linking accounts,
seeing and deleting one's data, pausing, becoming a coordinator, the topics people choose."""
