"""The payout-roster workflow, written once (issue 4; DOMAIN §8.2 PayoutRoster, §8.3, E22).

Not a Django app: it owns no table, migration or permission. It offers abstract models
(`RosterBase`, `RosterLineBase`) with the lifecycle, the database guards and the constraints
declared once, and the services, selectors and API views that carry the lifecycle out. Each
roster kind (benefit payouts in `benefits`, social assistance in `relief`) subclasses the two
models in its own app, so its tables, migrations and permissions (`<app>.approve_<model>`…)
are that app's, and roles can grant them per kind.

Layering: imports `socialsec.core`, `socialsec.lib` and, for the payee, `enrollment.Person`;
never `benefits` or `relief`.
"""
