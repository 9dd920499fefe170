"""Notifications ([notify]): an SNS topic and a webhook hear of a run's start
and end (and of a rollback's), with counts and the route; a target that cannot
be reached is a warning on stderr, never a failed run, and a webhook's URL
(which may carry a token) is never printed."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import write_config

REGION = "us-east-1"


def _configure(workdir, accounts, emulator, notify: str) -> None:
    write_config(
        workdir,
        accounts.source,
        accounts.destination,
        REGION,
        REGION,
        emulator,
        '[scope]\ninclude = ["vpc", "subnet"]\n\n[notify]\n' + notify,
    )


def _estate(session, accounts) -> None:
    ec2 = session(accounts.source).client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    ec2.create_subnet(VpcId=vpc, CidrBlock="10.40.1.0/24", AvailabilityZone=f"{REGION}a")


def _route(accounts) -> str:
    return f"({accounts.source}/{REGION} -> {accounts.destination}/{REGION})"


def _queue_messages(sqs, url: str, want: int, timeout: float = 20) -> list[dict]:
    """SNS envelopes from the queue, until `want` arrived (or time is up)."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            got.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return got


def test_an_sns_topic_hears_of_the_start_and_end_of_runs_and_rollbacks(session, accounts, emulator, workdir, ferry):
    dst = session(accounts.destination)
    sns, sqs = dst.client("sns"), dst.client("sqs")
    topic = sns.create_topic(Name="ferry-runs")["TopicArn"]
    queue = sqs.create_queue(QueueName="ferry-runs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    _estate(session, accounts)
    _configure(workdir, accounts, emulator, f'sns_topic_arn = "{topic}"\n')

    applied = ferry("apply --yes")
    assert applied.returncode == 0, applied.stderr
    assert "warning" not in applied.stderr

    envelopes = _queue_messages(sqs, queue, 2)
    assert len(envelopes) == 2, envelopes
    start, end = (json.loads(e["Message"]) for e in envelopes)
    # The VPC and subnet are created; moto's default VPC and its parts adopted.
    work = start["counts"]["work"]
    assert [e["Subject"] for e in envelopes] == [
        f"ferry run 1 started: {work} change(s) to make {_route(accounts)}",
        f"ferry run 1 succeeded: 2 created, 0 failed {_route(accounts)}",
    ]
    assert f"2 to create, {work - 2} to adopt" in applied.stdout
    assert start["event"] == "run_started" and start["state"] == "running" and start["run"] == 1
    assert list(start["counts"]["services"]) == ["ec2"]
    assert end["event"] == "run_ended" and end["state"] == "succeeded"
    assert end["counts"]["created"] == 2 and end["counts"]["failed"] == 0
    assert end["errors"] == []
    assert end["source"] == f"{accounts.source}/{REGION}"
    assert end["destination"] == f"{accounts.destination}/{REGION}"
    assert end["started_at"] == start["started_at"] and end["ended_at"] >= end["started_at"]

    rolled = ferry("rollback --yes")
    assert rolled.returncode == 0, rolled.stderr
    subjects = [e["Subject"] for e in _queue_messages(sqs, queue, 2)]
    assert len(subjects) == 2, subjects
    assert subjects[0].startswith("ferry run 1 rollback started: ")
    assert subjects[0].endswith(f" step(s) {_route(accounts)}")
    assert subjects[1].startswith("ferry run 1 rolled back: 2 deleted, ")
    assert subjects[1].endswith(f" restored {_route(accounts)}")
    assert "Run 1 rolled back" in rolled.stdout

    # Bootstrap gives the publishing side (the destination) sns:Publish.
    printed = json.loads(ferry("bootstrap --output json").stdout)
    assert "sns:Publish" in printed["destination_policy"]["Statement"][0]["Action"]
    assert "sns:Publish" not in printed["source_policy"]["Statement"][0]["Action"]


class _Hook(BaseHTTPRequestHandler):
    """Records each POST (path, headers, JSON body) and answers 200."""

    received: list[dict]

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.received.append(  # type: ignore[attr-defined]
            {"path": self.path, "type": self.headers.get("Content-Type"), "body": json.loads(body)}
        )
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def hook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_webhook_receives_json_for_start_and_end(session, accounts, emulator, workdir, ferry, hook):
    port = hook.server_address[1]
    _estate(session, accounts)
    _configure(workdir, accounts, emulator, f'webhook_url = "http://127.0.0.1:{port}/hooks/secret-token?key=abc"\n')

    applied = ferry("apply --yes")
    assert applied.returncode == 0, applied.stderr
    assert "secret-token" not in applied.stdout + applied.stderr

    received = hook.received
    assert [r["body"]["event"] for r in received] == ["run_started", "run_ended"]
    assert all(r["path"] == "/hooks/secret-token?key=abc" for r in received)
    assert all(r["type"] == "application/json" for r in received)
    end = received[1]["body"]
    assert end["subject"] == f"ferry run 1 succeeded: 2 created, 0 failed {_route(accounts)}"
    assert end["text"] == end["subject"]
    assert end["counts"]["created"] == 2 and end["state"] == "succeeded"

    # The plain progress lines of the run: its steps per service, and the
    # service's end.
    assert re.search(r"^run 1 started: (\d+) step\(s\) \(ec2 \1\)$", applied.stderr, re.M), applied.stderr
    assert re.search(r"^done           ec2: (\d+)/\1 in \d+s$", applied.stderr, re.M), applied.stderr


def test_unreachable_targets_are_warnings_and_the_run_succeeds(session, accounts, emulator, workdir, ferry):
    missing_topic = f"arn:aws:sns:{REGION}:{accounts.destination}:no-such-topic"
    _estate(session, accounts)
    # Port 9 (discard) is closed here: the connection is refused.
    _configure(
        workdir,
        accounts,
        emulator,
        f'sns_topic_arn = "{missing_topic}"\nwebhook_url = "http://127.0.0.1:9/hooks/secret-token"\n',
    )
    applied = ferry("apply --yes")
    assert applied.returncode == 0, applied.stderr
    warnings = [line for line in applied.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 4, applied.stderr
    for which in ("start", "end"):
        assert any(
            w.startswith(f"warning: the {which} message of run 1 not delivered to webhook http://127.0.0.1:9/…: ")
            for w in warnings
        ), warnings
        assert any(
            w.startswith(f"warning: the {which} message of run 1 not delivered to SNS topic {missing_topic}: ")
            for w in warnings
        ), warnings
    assert "secret-token" not in applied.stdout + applied.stderr
    assert "Run 1 succeeded" in applied.stdout


def test_a_webhook_that_never_answers_delays_the_exit_a_few_seconds_at_most(session, accounts, emulator, workdir, ferry):
    import socket

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never reads or answers
    try:
        _estate(session, accounts)
        port = silent.getsockname()[1]
        _configure(workdir, accounts, emulator, f'webhook_url = "http://127.0.0.1:{port}/hook"\n')
        started = time.monotonic()
        applied = ferry("apply --yes")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert applied.returncode == 0, applied.stderr
    assert "no answer within 5s" in applied.stderr or "not delivered within 5s" in applied.stderr, applied.stderr
    # The start message waits 5 s for its answer while the run goes on; the
    # end message gets what is left of the 5 s bound at exit.
    assert elapsed < 30, elapsed
