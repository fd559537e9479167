"""The anchored audit head (sql/AUDIT.md, "Anchors"): `agricert audit anchor
FILE` signs the verified head with a key kept outside the database and
appends it to FILE; `agricert audit verify --anchors FILE` then finds a chain
that a superuser rewrote consistently (every hash recomputed, the head moved:
plain `audit verify` passes) after any anchor, and names the anchor."""
import os
import subprocess

from harness import psql, run_test

# A consistent rewrite, as a superuser: change entry FROM_ID, then recompute
# every hash from it to the end with the database's own reference function,
# and move the head. Plain `audit verify` cannot tell.
REWRITE = """
SET session_replication_role = replica;
UPDATE audit_log SET actor = 'cli:mallory' WHERE id = {victim};
DO $$
DECLARE r record; v_prev bytea;
BEGIN
  SELECT hash INTO v_prev FROM audit_log WHERE id = {victim} - 1;
  IF v_prev IS NULL THEN v_prev := '\\x' || repeat('00', 32); END IF;
  FOR r IN SELECT * FROM audit_log WHERE id >= {victim} ORDER BY id LOOP
    UPDATE audit_log SET prev_hash = v_prev,
      hash = sha256(v_prev || convert_to(audit_canonical(r.id, r.at, r.actor, r.action, r.object,
                                                          r.before, r.after), 'UTF8'))
      WHERE id = r.id RETURNING hash INTO v_prev;
  END LOOP;
  UPDATE audit_head SET hash = v_prev;
END $$;
"""


def cli(svc, *args):
    out = svc.cli(*args, check=False)
    return out.returncode, out.stdout + out.stderr


def run(t, svc):
    anchors = os.path.join(svc.tmp, "anchors.txt")
    rc, out = cli(svc, "audit", "anchor", anchors)
    t.ok(rc == 2 and "agricert key new --anchor" in out, "no anchor key: audit anchor says how to make one", out)
    rc, out = cli(svc, "key", "new", "--anchor")
    t.eq(rc, 0, "agricert key new --anchor")
    t.ok(os.path.exists(os.path.join(svc.keys, "anchor", "1.key")), "the anchor key is a file in keys/anchor, outside the database")
    t.eq(psql(svc.db, "SELECT count(*) FROM audit_log WHERE action = 'anchor_key.new'"), "1",
         "creating it is audited as anchor_key.new")

    heads = []
    for i in range(2):
        for j in range(3):
            svc.add_subject("family_farm", f"锚定测试农场{i}{j}", "13859001234", "350524103201")
        rc, out = cli(svc, "audit", "anchor", anchors)
        head = int(psql(svc.db, "SELECT last_id FROM audit_head"))
        heads.append(head)
        t.ok(rc == 0 and f"anchored entry {head} " in out, f"anchor {i + 1} signs head {head}", out)
    for j in range(3):
        svc.add_subject("family_farm", f"锚定后农场{j}", "13859001234", "350524103201")
    with open(anchors) as f:
        lines = f.read().splitlines()
    t.eq(len(lines), 2, "two lines appended to the operator's file")
    fields = lines[0].split(" ")
    t.ok(len(fields) == 7 and fields[0] == "agricert-anchor-v1" and fields[2] == str(heads[0])
         and len(fields[3]) == 64 and fields[4] == "ed25519" and len(fields[6]) == 128,
         "a line: magic, time, head id, hash, alg, kid, signature", lines[0])
    t.eq(fields[3], psql(svc.db, f"SELECT encode(hash, 'hex') FROM audit_log WHERE id = {heads[0]}"),
         "the anchored hash is the head entry's")

    rc, out = cli(svc, "audit", "verify", "--anchors", anchors)
    t.ok(rc == 0 and "2 anchors matched" in out, "untouched chain: verify --anchors passes", out)

    psql(svc.db, "CREATE TABLE audit_copy AS SELECT * FROM audit_log; "
                 "CREATE TABLE head_copy AS SELECT * FROM audit_head")
    restore = ("SET session_replication_role = replica; DELETE FROM audit_log; "
               "INSERT INTO audit_log SELECT * FROM audit_copy; DELETE FROM audit_head; "
               "INSERT INTO audit_head SELECT * FROM head_copy")
    cases = [
        ("an entry before the first anchor", 2, heads[0], 1),
        ("an entry between the anchors", heads[0] + 1, heads[1], 2),
    ]
    for what, victim, named, line in cases:
        subprocess.run(["psql", svc.db, "-v", "ON_ERROR_STOP=1", "-qc", REWRITE.format(victim=victim)],
                       check=True, capture_output=True)
        rc, out = cli(svc, "audit", "verify")
        t.eq(rc, 0, f"{what} rewritten consistently by a superuser: plain verify cannot tell")
        rc, out = cli(svc, "audit", "verify", "--anchors", anchors)
        t.ok(rc == 1 and f"audit log broken at entry {named}:" in out and f"anchors.txt line {line}" in out
             and "rewritten after that anchor" in out,
             f"{what}: verify --anchors exits 1 naming anchor line {line} (entry {named})", out)
        rc, out = cli(svc, "audit", "anchor", anchors)
        t.ok(rc == 1 and len(open(anchors).read().splitlines()) == 2,
             f"{what}: audit anchor refuses to sign the rewritten chain", out)
        psql(svc.db, restore)

    # The tail cut back to before the second anchor, the head moved with it.
    psql(svc.db, f"SET session_replication_role = replica; DELETE FROM audit_log WHERE id > {heads[0] + 1}; "
                 f"UPDATE audit_head SET last_id = {heads[0] + 1}, "
                 f"hash = (SELECT hash FROM audit_log WHERE id = {heads[0] + 1})")
    rc, out = cli(svc, "audit", "verify")
    t.eq(rc, 0, "the tail removed and the head moved back: plain verify cannot tell")
    rc, out = cli(svc, "audit", "verify", "--anchors", anchors)
    t.ok(rc == 1 and "missing" in out and "line 2" in out and f"holds entry {heads[1]}" in out,
         "... verify --anchors: entries removed after the second anchor", out)
    psql(svc.db, restore)
    rc, out = cli(svc, "audit", "verify", "--anchors", anchors)
    t.ok(rc == 0, "restored: verify --anchors passes again", out)

    # The anchors file itself: a changed line no longer carries a valid signature.
    forged = os.path.join(svc.tmp, "forged.txt")
    other = psql(svc.db, f"SELECT encode(hash, 'hex') FROM audit_log WHERE id = {heads[0] - 1}")
    with open(forged, "w") as f:
        f.write(" ".join(fields[:2] + [str(heads[0] - 1), other] + fields[4:]) + "\n")
    rc, out = cli(svc, "audit", "verify", "--anchors", forged)
    t.ok(rc == 2 and "line 1: bad signature" in out, "a forged anchor line is refused (exit 2)", out)
    # A verifier needs only the public half.
    pub_keys = os.path.join(svc.tmp, "verifier-keys")
    os.makedirs(os.path.join(pub_keys, "anchor"))
    subprocess.run(["openssl", "pkey", "-in", os.path.join(svc.keys, "anchor", "1.key"), "-pubout",
                    "-out", os.path.join(pub_keys, "anchor", "1.pub")], check=True)
    env = dict(svc.env, AGRICERT_KEYS=pub_keys)
    out = subprocess.run([os.path.join(os.environ["AGRICERT_BUILD"], "service/agricert"), "audit", "verify",
                          "--anchors", anchors], env=env, cwd=svc.tmp, capture_output=True, text=True)
    t.ok(out.returncode == 0 and "2 anchors matched" in out.stdout,
         "verify --anchors with only the anchor key's public half", out.stdout + out.stderr)


def main():
    run_test("anchor", run, printers=False)


if __name__ == "__main__":
    main()
