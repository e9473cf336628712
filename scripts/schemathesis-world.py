"""The world scripts/schemathesis.sh fuzzes: a clinic and its admin, signed in.

    python3 scripts/schemathesis-world.py BASE_URL MAIL_DIR

Reads the operator token from the ROLECALL_OPERATOR variable (never from
the command line, where `ps` would show it). Creates, through the API, the
organization `acme` (Billing and Clinical), an employee and user `alice`
holding System Admin there, and the other ids scripts/schemathesis.toml
names; signs in as her with the temporary password
from her invitation (an .eml file in MAIL_DIR, written by the server's mail
sender) and chooses a password. Prints two lines: the session's `Cookie`
header value and its CSRF token.
"""

import email
import email.policy
import json
import os
import pathlib
import sys
import time
import urllib.error
import urllib.request

ORG = "acme"
USER = "alice"
EMAIL = "alice@acme.test"


def call(base, method, path, body, headers):
    """Sends a JSON request; returns (status, headers, parsed body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read() or b"null")


def expect(what, answer, status):
    if answer[0] != status:
        # The body of a failure holds no secret: problem documents never do.
        sys.exit(f"schemathesis-world.py: {what} answered {answer[0]}: {answer[2]}")
    return answer


def temporary_password(mail_dir):
    """The password in alice's invitation, once the mail sender wrote it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in sorted(pathlib.Path(mail_dir).glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] != EMAIL:
                continue
            text = message.get_content()
            _, _, rest = text.partition("temporary password:")
            for line in rest.splitlines():
                if line.strip():
                    return line.strip()
        time.sleep(0.1)
    sys.exit(f"schemathesis-world.py: no invitation for {EMAIL} in {mail_dir} within 30 s")


def main():
    base, mail_dir = sys.argv[1], sys.argv[2]
    operator = {"Authorization": "Bearer " + os.environ["ROLECALL_OPERATOR"]}
    expect(
        "creating the organization",
        call(base, "POST", "/v1/orgs",
             {"id": ORG, "name": "Acme Clinic", "subscriptions": ["web.billing", "web.clinical"]},
             operator),
        201,
    )
    expect(
        "creating the employee",
        call(base, "POST", f"/v1/orgs/{ORG}/employees",
             {"id": USER, "first_name": "Alice", "last_name": "Admin", "email": EMAIL}, operator),
        201,
    )
    expect(
        "creating the user",
        call(base, "POST", f"/v1/orgs/{ORG}/users",
             {"id": USER, "employee_id": USER, "roles": ["web.system_admin"]},
             operator),
        201,
    )
    # What the other ids of scripts/schemathesis.toml name: a second
    # clinic, an office-staff user, an employee without a user, a group and
    # a custom role.
    expect(
        "creating the second clinic",
        call(base, "POST", "/v1/orgs",
             {"id": "acme-north", "name": "Acme North", "parent": ORG}, operator),
        201,
    )
    for employee, user in (("pat", "pat"), ("sam", None)):
        expect(
            f"creating the employee {employee}",
            call(base, "POST", f"/v1/orgs/{ORG}/employees",
                 {"id": employee, "first_name": employee.title(), "last_name": "Staff",
                  "email": f"{employee}@acme.test"}, operator),
            201,
        )
        if user:
            expect(
                f"creating the user {user}",
                call(base, "POST", f"/v1/orgs/{ORG}/users",
                     {"id": user, "employee_id": employee, "roles": ["web.office_staff"]},
                     operator),
                201,
            )
    expect(
        "creating the group",
        call(base, "POST", f"/v1/orgs/{ORG}/groups",
             {"id": "front-desk", "name": "Front desk", "members": ["pat"], "created_by": "pat"},
             operator),
        201,
    )
    expect(
        "creating the custom role",
        call(base, "POST", f"/v1/orgs/{ORG}/roles",
             {"id": "web.front_desk", "name": "Front desk", "copy_of": "web.office_staff"},
             operator),
        201,
    )
    password = temporary_password(mail_dir)
    status, headers, session = expect(
        "signing in", call(base, "POST", "/v1/sign-in", {"email": EMAIL, "password": password}, {}),
        200,
    )
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    signed_in = {"Cookie": cookie, "X-CSRF-Token": session["csrf_token"]}
    expect(
        "choosing a password",
        call(base, "POST", "/v1/account/password",
             {"new_password": "a long phrase alice chose for the fuzzing run"}, signed_in),
        200,
    )
    print(cookie)
    print(session["csrf_token"])


if __name__ == "__main__":
    main()
