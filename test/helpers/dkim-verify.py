# Verifies the topmost DKIM-Signature of the message on standard input with dkimpy (Debian package
# python3-dkim), an implementation independent of the signer under test. DNS is not asked: the
# lookup answers only for the expected owner name, so a wrong d= or s= also fails verification.
#
# Usage: dkim-verify.py NAME TXT-VALUE < message
# Prints one JSON line: {"ok": true|false, "queried": [names], "log": "..."}; exits 0 either way.
import io
import json
import logging
import sys

import dkim

expected_name, txt_value = sys.argv[1], sys.argv[2]
message = sys.stdin.buffer.read()
queried = []


def dnsfunc(name, timeout=5):
    # dkimpy asks for "<s>._domainkey.<d>." as bytes (RFC 6376 section 3.6.2.1).
    queried.append(name.decode("ascii", "replace"))
    if name.rstrip(b".").lower() == expected_name.encode("ascii").lower():
        return txt_value.encode("ascii")
    return None


log = io.StringIO()
logger = logging.getLogger("dkim-verify")
logger.addHandler(logging.StreamHandler(log))
logger.setLevel(logging.DEBUG)

ok = dkim.verify(message, logger=logger, dnsfunc=dnsfunc)
print(json.dumps({"ok": bool(ok), "queried": queried, "log": log.getvalue()}))
