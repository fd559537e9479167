"""What the supervision tests share (issue 13): a small real JPEG made by
pdftoppm, the reference redraw of a sampling plan (sql/SAMPLING.md), and
CSV checks for files meant for Excel."""
import csv
import hashlib
import io
import os
import subprocess
import tempfile


def tiny_jpeg():
    """A real 16x12 JPEG (a green field with a yellow square), rendered by pdftoppm."""
    stream = b"0.1 0.5 0.2 rg 0 0 16 12 re f 1 1 0.6 rg 4 3 8 6 re f"
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 16 12] /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    pdf, offsets = b"%PDF-1.4\n", []
    for i, o in enumerate(objs):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n" % (i + 1) + o + b"\nendobj\n"
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "p.pdf"), "wb") as f:
            f.write(pdf)
        subprocess.run(["pdftoppm", "-jpeg", "-r", "72", "-singlefile", os.path.join(d, "p.pdf"),
                        os.path.join(d, "p")], check=True)
        with open(os.path.join(d, "p.jpg"), "rb") as f:
            return f.read()


def sampling_random(seed, stream, j):
    """r(j, stream): the first 48 bits of SHA-256("<seed>:<stream>:<j>")."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{stream}:{j}".encode()).digest()[:6], "big")


def redraw(seed, size, weights, inspectors):
    """The draw of sql/SAMPLING.md: weights maps subject ids to weights; the
    picks as (draw, subject, inspector) in draw order."""
    ids = sorted(weights)
    staff = sorted(inspectors)
    picks = []
    for j in range(1, min(size, len(ids)) + 1):
        x = sampling_random(seed, "subject", j) % sum(weights[i] for i in ids)
        acc = 0
        for k, subject in enumerate(ids):
            acc += weights[subject]
            if x < acc:
                break
        inspector = staff[sampling_random(seed, "inspector", j) % len(staff)] if staff else None
        picks.append((j, subject, inspector))
        ids.pop(k)
    return picks


def redraw_plan(plan):
    """A plan document of GET /api/v1/sampling-plans/{id}, redrawn from what it publishes."""
    return redraw(plan["seed"], plan["size"], {c["subject"]: c["weight"] for c in plan["candidates"]},
                  [i["id"] for i in plan["inspectors"]])


def excel_csv(body):
    """Problems of a CSV file meant for Excel (byte order mark, every cell quoted, CRLF)
    and its rows: (problems, rows)."""
    problems = []
    if not body.startswith(b"\xef\xbb\xbf"):
        problems.append("no UTF-8 byte order mark")
    text = body[3:].decode("utf-8")
    lines = text.split("\r\n")
    if lines[-1] != "":
        problems.append("the last line does not end with CRLF")
    for n, line in enumerate(lines[:-1], 1):
        if not (line.startswith('"') and line.endswith('"')):
            problems.append(f"line {n} has a cell that is not quoted: {line[:60]}")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return problems, rows
