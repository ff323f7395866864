"""Tier storage. `standings`: one standing row per member, the tier.changed events, the
reviews that are due. `measures`: the tier measure (points or spend) over per-member
windows."""
