"""Fulfilment: reward providers (codes, the gift-card API, manual) and the gift-card
sandbox. Called only from durable jobs after commit, never inside a transaction."""
