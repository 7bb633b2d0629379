//! The axum service: web hall, hotline console, review queue, eval pages,
//! JSON API and the OpenAI-compatible endpoint.
