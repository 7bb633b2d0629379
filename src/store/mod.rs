//! SQLite storage for the service: conversations, messages, answers, reviews,
//! feedback, users, audit log. Redacts personal numbers before writing.
