"""Large synthetic data with realistic shapes, for benchmarks (``manage.py generate``).

    manage.py generate --organisations 20 --cycles 1000 [--seed 7] [--years 3]

**Shapes.** Each organisation has 3-8 commissioners and 1-3 decision-makers on its staff, 1-3
involvement leads, a governance board of 3-5 and a pool of user representatives. Each cycle has a
panel of 5-14 (two or three in the decision forum, the rest in the reference group, two to four on
the tender panel where the template has a procurement stage) and moves through its template's
stages at a realistic pace from a random start in the last ``--years`` years: most are still
active, at every stage, some stalled and some completed. On the way members leave and some are
replaced, budgets are revised (mostly cut) after sign-off so the panel re-attests, boundaries are
re-agreed, members dissent (most dissents are withdrawn, the rest overridden by a governance board
member), advances are refused with the gate's own reasons, stages are reopened, decisions are
recorded, and the panel gives input that the commissioner answers ("we did", "we couldn't,
because …", sometimes "still considering" first) or has not answered yet.

**How it is written.** Through the services each change costs dozens of queries, and even Django's
``bulk_create`` spends most of its time preparing values, far too slow for ten thousand cycles. So
people, organisations and boards are written with ``bulk_create``, and everything else as raw
multi-row inserts (``COPY`` on PostgreSQL) with ids taken in advance from the tables' own
sequences: cycles, stage visits, role boundary versions and acknowledgements, budget versions,
working agreements and signatures, panel memberships, conflict declarations, sign-offs, dissents
and their withdrawals, gate overrides, decisions, input and responses, guardian object permissions
(the lead commissioner's and the active panel's, as the services grant them) and one ledger event
for every change and every refused advance, with the action names and payloads the services write.
What keeps it honest:

- each action's rows and event are made by one method named after its service
  (``actions.CycleActions``), its payload by the services' own builder (``cycle.records``); the
  parity test (``tests/cycle/test_generator_parity.py``) plays one story through the services and
  through these methods and compares the two ledgers event for event;
- each cycle is simulated with the same pure gate rules the services use (``cycle.gates.evaluate``
  on a ``StageSnapshot``), so every stage it leaves had its gate open or an override on record, and
  every refused advance carries exactly the unmet codes the gate gave;
- ledger events are hashed with the ledger's own definition of the chain (``cycle.chain``:
  ``format_timestamp``, ``canonical_json``, ``event_hash``, which ``cycle.ledger`` uses too),
  chained to the current ledger head, each cycle's chain too, and the head is moved on, so
  ``verify_ledger`` and ``verify_cycle`` hold;
- the events of all cycles are merged in time order before they are numbered, so the ledger's times
  rise with its sequence numbers (appended after events that are later in time, such as scenarios
  loaded today, they go back in time at that one join; the command says so).

Not generated: viewflow process records. The process entry points move a cycle that has none by
the plain service call, so generated cycles can be driven on through the services like any other.

``manage.py generate`` writes everything in one transaction holding the ledger head, so nothing
else can append meanwhile, foreign keys are checked at commit, and a failure leaves nothing behind.

The modules, one job each: ``vocabulary`` (the words and weights the stories draw on), ``ids``
(primary keys taken in advance), ``writer`` (raw multi-row inserts and the ledger chain),
``people`` (organisations and everyone in them), ``actions`` (what each action writes: the rows a
service makes and the event it appends, built by ``cycle.records``, the services' own builders),
``story`` (one cycle's history in time order, its choices drawn at random) and ``run`` (every
story merged in time order into the writer).
"""
