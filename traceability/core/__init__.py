"""The core every feature stands on: settings, the database, Vietnam time, text helpers, errors,
controlled vocabularies, uploads and the ownership declarations. It imports no feature."""
