"""Client search at scale: does the desk's search stay fast with 100,000 clients in one clinic?

Needs PostgreSQL (the trigram index "ix_client_search_trgm" exists only there) and the address
of a scratch database in DATABASE_URL; see bench/README.md. The script:

1. brings the schema up to date (flask db upgrade) and creates, or reuses, two clinics:
   "bench-1k" with 1,000 clients and "bench-100k" with 100,000 (bulk Core inserts of generated,
   realistic names, emails and phones, search_text computed by models.client.search_text_of),
   then runs VACUUM ANALYZE on the client table (see settle());
2. runs the application's own clinic_saas.clients.records.search_clients, bound to each clinic,
   for a fixed set of queries, many times each, and prints the median per query for both sizes
   and their ratio;
3. prints EXPLAIN (ANALYZE, BUFFERS) of the statement search_clients sends for a common
   fragment and a rare name on the 100k clinic;
4. exits with status 1 if, for any query, the 100k median is more than twice the 1k median.

It is not run by the test suite.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from flask_migrate import upgrade
from sqlalchemy import event, func, select

from clinic_saas import create_app, tenancy
from clinic_saas.clients.records import search_clients
from clinic_saas.extensions import db
from clinic_saas.models import Client, Clinic
from clinic_saas.models.base import uuid7
from clinic_saas.models.client import search_text_of

SIZES = {"bench-1k": 1_000, "bench-100k": 100_000}
BATCH = 5_000
MAX_RATIO = 2.0
# One client in each clinic that the "rare name" and "phone" queries find, and only them.
RARE = {
    "first_name": "Zephyrine",
    "last_name": "Quillfeather",
    "email": "zephyrine.q@fellmail.example",
    "phone": "07700 900461",
}
QUERIES = [
    ("surname fragment", "hugh"),
    ("first and last name", "olivia hughes"),
    ("email fragment", "olivia.hughes"),
    ("phone typed with spaces", "07700 900 461"),
    ("rare name", "quillfeather"),
]
EXPLAINED = ("hugh", "quillfeather")  # a common fragment and a rare name

_FIRST_NAMES = """
Oliver George Harry Noah Jack Leo Arthur Muhammad Oscar Charlie Jacob Thomas Henry William Alfie
Joshua Freddie Archie Theo Isaac James Ethan Lucas Mohammed Alexander Joseph Max Samuel Daniel
Logan Edward Finley Adam Sebastian Tommy Reggie Arlo Rory Teddy Toby Elijah Dylan Hugo Louie
Olivia Amelia Isla Ava Ivy Freya Lily Florence Mia Willow Rosie Sophia Isabella Grace Daisy
Sienna Poppy Elsie Emily Ella Evelyn Phoebe Sofia Evie Charlotte Harper Millie Matilda Ruby
Alice Maya Aisha Priya Chloe Hannah Zara Layla Erin Niamh Siobhan Aoife Catriona Megan Bethan
Rhys Dafydd Cerys Ewan Callum Fraser Kirsty Ingrid Lars Sanne Marta Pablo Lucia Giulia Matteo
Yusuf Fatima Omar Amira Kwame Ama Chidi Ngozi Wei Mei Hiroshi Yuki Anil Deepa Ravi Sunita
"""
_LAST_NAMES = """
Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Robinson Thompson
Wright Walker White Edwards Hughes Green Hall Lewis Harris Clarke Patel Jackson Wood Turner
Martin Cooper Hill Ward Morris Moore Clark Lee King Baker Harrison Morgan Allen James Scott
Phillips Watson Davis Parker Price Bennett Young Griffiths Mitchell Kelly Cook Carter Richardson
Bailey Collins Bell Shaw Murphy Miller Cox Richards Khan Marshall Anderson Simpson Ellis Adams
Singh Begum Wilkinson Foster Chapman Powell Webb Rogers Gray Mason Ali Hunt Hussain Campbell
Matthews Owen Palmer Holmes Mills Barnes Knight Lloyd Butler Russell Barker Fisher Stevens
Jenkins Murray Dixon Harvey Graham Pearson Ahmed Fletcher Walsh Kaur Gibson Howard Andrews
Stewart Elliott Reynolds Saunders Payne Fox Ford Pearce Day Brooks West Lawrence Cole Atkinson
Bradley Spencer Gill Dawson Ball Burton O'Brien Watts Rose Booth Perry Ryan Grant Wells Armstrong
Francis Rees Hayes Hart Hudson Newman Barrett Webster Hunter Gregory Carr Lowe Page Marsh Riley
Dennis Hughson MacLeod McDonald Fraser Nowak Kowalski Rossi Garcia Fernandez Okafor Mensah
Nguyen Chen Wang Tanaka Sato Kim Park Sharma Gupta Iyer Novak Jansen Bakker Larsen Nilsen
"""
FIRST_NAMES, LAST_NAMES = _FIRST_NAMES.split(), _LAST_NAMES.split()
DOMAINS = [
    "gmail.example",
    "outlook.example",
    "icloud.example",
    "yahoo.example",
    "btinternet.example",
]


def _person(rng: random.Random, n: int, clinic_id, now: datetime) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local = f"{first}.{last}".lower().replace("'", "")
    email = f"{local}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}" if rng.random() < 0.9 else None
    if rng.random() < 0.8:
        phone = f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    else:
        phone = f"+44 7{rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)}"
    return _row(clinic_id, first, last, email, phone, now - timedelta(minutes=n))


def _row(clinic_id, first, last, email, phone, created_at) -> dict:
    return {
        "clinic_id": clinic_id,
        "id": uuid7(),
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "search_text": search_text_of(first, last, email, phone),
        "created_at": created_at,
        "marketing_consent": False,
    }


def _clinic(slug: str) -> Clinic:
    clinic = db.session.scalar(select(Clinic).where(Clinic.slug == slug))
    if clinic is None:
        clinic = Clinic(
            name=f"Bench clinic {slug.removeprefix('bench-')}",
            slug=slug,
            timezone="Europe/London",
            currency="GBP",
            country="GB",
        )
        db.session.add(clinic)
        db.session.commit()
    return clinic


def _client_count(clinic: Clinic) -> int:
    with tenancy.bound_to(clinic):
        return db.session.scalar(select(func.count(Client.id)))


def fill(clinic: Clinic, size: int) -> None:
    """Insert clients until the clinic has `size` of them (the first one is the rare name)."""
    have = _client_count(clinic)
    if have >= size:
        print(f"{clinic.slug}: reusing {have:,} clients")
        return
    started = time.perf_counter()
    rng = random.Random(f"{clinic.slug}-{have}")
    now = datetime.now(UTC)
    table = Client.__table__
    rows = []
    if have == 0:
        rows.append(_row(clinic.id, *RARE.values(), now))
    rows += [_person(rng, n, clinic.id, now) for n in range(size - have - len(rows))]
    with db.engine.begin() as connection:
        for start in range(0, len(rows), BATCH):
            connection.execute(table.insert(), rows[start : start + BATCH])
    took = time.perf_counter() - started
    print(f"{clinic.slug}: inserted {len(rows):,} clients in {took:.1f} s")


def settle() -> None:
    """VACUUM ANALYZE client: the steady state autovacuum keeps a live database in.

    Fresh statistics for the planner (the trigram index has fastupdate off, so it has no
    pending list to merge).
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE client")


def measure(clinic: Clinic, query: str, runs: int) -> tuple[float, int]:
    """Median milliseconds of search_clients(query) bound to the clinic, and the rows found."""
    timings = []
    found = 0
    with tenancy.bound_to(clinic):
        for run in range(runs + 3):
            db.session.expunge_all()
            started = time.perf_counter()
            found = len(search_clients(query))
            took = (time.perf_counter() - started) * 1000
            if run >= 3:  # the first runs warm the caches and compile the statement
                timings.append(took)
    db.session.rollback()
    return statistics.median(timings), found


def explain(clinic: Clinic, query: str) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of exactly the statement search_clients sends."""
    sent = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with tenancy.bound_to(clinic):
            search_clients(query)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    db.session.rollback()
    statement, parameters = next((s, p) for s, p in sent if "FROM client" in s)
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
        ).scalars()
        return "\n".join(plan)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="timed runs per query and clinic")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        print("Set DATABASE_URL to a scratch PostgreSQL database, e.g.", file=sys.stderr)
        print("  DATABASE_URL=postgresql://postgres@127.0.0.1/clinic_bench", file=sys.stderr)
        return 2
    # The app's own engine settings (config.tune_engine): no server-side prepared statements.
    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        clinics = {slug: _clinic(slug) for slug in SIZES}
        for slug, size in SIZES.items():
            fill(clinics[slug], size)
        settle()

        small, large = clinics["bench-1k"], clinics["bench-100k"]
        print(f"\nsearch_clients, median of {args.runs} runs (ms)")
        header = f"{'query':26} {'q':16} {'1k':>8} {'100k':>8} {'ratio':>6}  found (1k/100k)"
        print(header)
        print("-" * len(header))
        worst = 0.0
        for label, query in QUERIES:
            ms_small, found_small = measure(small, query, args.runs)
            ms_large, found_large = measure(large, query, args.runs)
            ratio = ms_large / ms_small
            worst = max(worst, ratio)
            print(
                f"{label:26} {query!r:16} {ms_small:8.2f} {ms_large:8.2f} {ratio:6.2f}  "
                f"{found_small}/{found_large}"
            )
        for query in EXPLAINED:
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) of {query!r} on {large.slug}:")
            print(explain(large, query))
    if worst > MAX_RATIO:
        print(f"\nFAIL: the 100k clinic is {worst:.2f}x slower than the 1k clinic on one query")
        return 1
    print(f"\nOK: at most {worst:.2f}x slower with 100 times the clients (limit {MAX_RATIO}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
