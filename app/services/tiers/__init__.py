"""Tiers in use. `standing`: reading and saving where a member stands (measure, held tier,
progress). `lifecycle`: what earns and returns do to it, in their own transaction.
`review`: the end-of-period review and its sweep. The rules themselves are pure, in
`app.domain.tiers`; the SQL is in `app.ledger.tiers`."""
