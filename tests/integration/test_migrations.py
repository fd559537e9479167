"""Migrations are never edited once applied (DESIGN.md): each applied
migration's SHA-256 is kept in schema_migrations, and the CLI and agricertd
refuse to go on when a file changed, was renamed or renumbered, or two files
share a number, naming the file. Migrations recorded before checksums existed
get theirs on the next run."""
import os
import shutil
import subprocess

from harness import BUILD, ROOT, psql, run_test


def run(t, svc):
    sql = os.path.join(svc.tmp, "sql")
    shutil.copytree(os.path.join(ROOT, "sql"), sql)
    svc.env["AGRICERT_SQL"] = sql

    def migrate():
        return svc.cli("migrate", check=False)

    t.eq(psql(svc.db, "SELECT count(*) FROM schema_migrations WHERE checksum IS NULL"), "0",
         "every applied migration has its checksum")
    psql(svc.db, "UPDATE schema_migrations SET checksum = NULL WHERE version <= 3")
    r = migrate()
    t.ok(r.returncode == 0 and psql(svc.db, "SELECT count(*) FROM schema_migrations "
                                    "WHERE checksum IS NULL") == "0",
         "migrations recorded without a checksum get one", r.stderr)

    first = os.path.join(sql, "0001_init.sql")
    original = open(first, encoding="utf-8").read()
    with open(first, "a", encoding="utf-8") as f:
        f.write("-- an afterthought\n")
    r = migrate()
    t.ok(r.returncode != 0 and "0001_init.sql was changed after it was applied" in r.stderr,
         "an edited migration is refused, naming the file", r.stderr)
    proc = subprocess.run([os.path.join(BUILD, "service/agricertd")], env=svc.env, cwd=svc.tmp,
                          capture_output=True, text=True, timeout=60)
    t.ok(proc.returncode == 1 and "0001_init.sql was changed" in proc.stderr,
         "agricertd refuses to start on it", proc.stderr[-1500:])
    with open(first, "w", encoding="utf-8") as f:
        f.write(original)

    dup = os.path.join(sql, "0005_again.sql")
    with open(dup, "w", encoding="utf-8") as f:
        f.write("SELECT 1;\n")
    r = migrate()
    t.ok(r.returncode != 0 and "two migrations are numbered 0005" in r.stderr,
         "two files with one number are refused", r.stderr)
    os.unlink(dup)

    chain = os.path.join(sql, "0007_chain.sql")
    renamed = os.path.join(sql, "0007_supply_chain.sql")
    os.rename(chain, renamed)
    r = migrate()
    t.ok(r.returncode != 0 and "applied as 0007_chain.sql" in r.stderr,
         "a renamed migration is refused", r.stderr)
    os.rename(renamed, chain)

    r = migrate()
    t.eq(r.returncode, 0, "restored, the migrations pass again")
    before = psql(svc.db, "SELECT count(*) FROM schema_migrations")
    newest = sorted(f for f in os.listdir(sql) if f.endswith(".sql"))[-1]
    nxt = f"{int(newest[:4]) + 1:04d}_test_addition.sql"
    with open(os.path.join(sql, nxt), "w", encoding="utf-8") as f:
        f.write("CREATE TABLE test_addition (id int);\n")
    r = migrate()
    t.ok(r.returncode == 0 and int(psql(svc.db, "SELECT count(*) FROM schema_migrations")) ==
         int(before) + 1 and psql(svc.db, "SELECT length(checksum) FROM schema_migrations "
                                  f"WHERE name = '{nxt}'") == "64",
         "a new migration is applied and recorded with its checksum", r.stderr)


if __name__ == "__main__":
    run_test("migrations", run, printers=False)
