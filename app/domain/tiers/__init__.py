"""Tiers, as pure rules. `policy`: a tier and how a program runs its tiers. `definition`:
reading and writing them in a program file. `lifecycle`: a member's standing and how
earns, returns and reviews move it. `progress`: what the next tier, or keeping this one,
still needs."""
