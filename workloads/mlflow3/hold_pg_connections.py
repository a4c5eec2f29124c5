"""Another tenant takes every free PostgreSQL connection, and holds them until stdin closes.

    python hold_pg_connections.py --port P --user U --database D [--leave N] [--terminate-others]

PGPASSWORD from the environment. Opens connections until the server refuses ("too many
clients") or only N are left; with --terminate-others it then ends every other client backend
(the application's pooled connections, as after a failover) and takes the freed slots too.
Prints one JSON line {"held": n, "terminated": m} once it holds them; exits when stdin closes.
"""
import argparse
import json
import sys

import psycopg2

ROUNDS = 50


def grab(args, conns):
    while True:
        if args.leave and len(conns) >= args.max - args.leave:
            return
        try:
            conns.append(psycopg2.connect(host="127.0.0.1", port=args.port, user=args.user, dbname=args.database, connect_timeout=3, application_name="chaos-conn-exhaustion"))
        except psycopg2.OperationalError:
            return


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--database", required=True)
    ap.add_argument("--max", type=int, default=10_000)
    ap.add_argument("--leave", type=int, default=0)
    ap.add_argument("--terminate-others", action="store_true")
    args = ap.parse_args()
    conns = []
    grab(args, conns)
    terminated = 0
    if args.terminate_others and conns:
        # A client may win a freed slot between terminate and re-grab (a pool reconnecting on
        # its next request): repeat until no other client holds one.
        cur = conns[0].cursor()
        for _ in range(ROUNDS):
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE backend_type = 'client backend' AND application_name <> 'chaos-conn-exhaustion' AND pid <> pg_backend_pid()"
            )
            n = cur.fetchone()[0]
            conns[0].commit()
            terminated += n
            grab(args, conns)
            if n == 0:
                break
    print(json.dumps({"held": len(conns), "terminated": terminated}), flush=True)
    sys.stdin.read()  # hold until the harness closes stdin (revert) or dies
    for c in conns:
        c.close()


if __name__ == "__main__":
    main()
