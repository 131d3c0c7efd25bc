"""Checks one webhook delivery as a receiver would: the X-Hub-Signature-256 HMAC with the
shared secret, then the payload against the repository_import JSON schema.

Usage: check_webhook.py SCHEMA SECRET SIGNATURE CONTENT_TYPE < body
Prints the payload's status."""
import hashlib
import hmac
import json
import sys
import urllib.parse

import jsonschema

schema_path, secret, signature, content_type = sys.argv[1:5]
body = sys.stdin.buffer.read()
expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
if not hmac.compare_digest(expected, signature):
    sys.exit(f"bad signature: got {signature}, expected {expected}")
if content_type == "form":
    fields = urllib.parse.parse_qs(body.decode(), strict_parsing=True)
    payload = json.loads(fields["payload"][0])
else:
    payload = json.loads(body)
with open(schema_path) as f:
    schema = json.load(f)
jsonschema.Draft202012Validator(
    schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
).validate(payload)
print(json.dumps(payload))
