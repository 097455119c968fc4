"""What Firefox itself makes of the province's policies, on the workstation: a headless Firefox in
a fresh profile, asked through Marionette (Firefox's own remote protocol, `--marionette`).

The checks prove the effect a user relies on, not the file: the policy engine active, the CMS as
locked home page, updates off, the province proxy, the province CA in Firefox's own certificate
store (Firefox does not read the system store on Linux), and the CMS opening over HTTPS without a
certificate error. The probe is a small Python script run on the workstation (standard library
only); Marionette's wire format (`LENGTH:JSON`, commands `[0, id, name, params]`) is Mozilla's
(https://firefox-source-docs.mozilla.org/testing/marionette/Protocol.html).
"""

from __future__ import annotations

import json
import shlex

# Run on the workstation: python3 - URL (prints one JSON object).
PROBE = r'''
import json, os, shutil, signal, socket, subprocess, sys, tempfile, time
url = sys.argv[1]
deadline = time.monotonic() + 100       # under the 120 s the caller's `timeout` allows
signal.signal(signal.SIGTERM, lambda *_: sys.exit(3))   # so that `finally` still cleans up
home = tempfile.mkdtemp(prefix="unitctl-firefox-")
profile = os.path.join(home, "profile")
os.mkdir(profile)
with open(os.path.join(profile, "user.js"), "w") as prefs:
    prefs.write('user_pref("marionette.port", 0);\n')   # any free port, written to MarionetteActivePort
env = dict(os.environ, HOME=home, MOZ_HEADLESS="1")
# --remote-allow-system-access: Firefox 138 and later run chrome-context scripts only with it
firefox = subprocess.Popen(["firefox-esr", "--headless", "--marionette", "--remote-allow-system-access",
                            "--no-remote", "--profile", profile], env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
result = {}


def left():
    return max(1.0, deadline - time.monotonic())


def receive(sock):
    size = b""
    while not size.endswith(b":"):
        byte = sock.recv(1)
        if not byte:
            raise EOFError("Marionette closed the connection")
        size += byte
    size = int(size[:-1])
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise EOFError("Marionette closed the connection")
        data += chunk
    return json.loads(data)


def command(sock, ident, name, params):
    sock.settimeout(left())
    body = json.dumps([0, ident, name, params]).encode()
    sock.sendall(str(len(body)).encode() + b":" + body)
    answer = receive(sock)
    return answer[2], answer[3]   # error, result


STATE = (
    'const db = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);'
    "const prefs = Services.prefs;"
    "const active = Services.policies.status == 1 ? Services.policies.getActivePolicies() : {};"
    "return {"
    "  policies: Services.policies.status,"
    '  bookmarks: (active.ManagedBookmarks || []).map(b => b.url || ""),'
    '  homepage: prefs.getStringPref("browser.startup.homepage", ""),'
    '  homepage_locked: prefs.prefIsLocked("browser.startup.homepage"),'
    '  app_update_allowed: Services.policies.isAllowed("appUpdate"),'
    '  proxy_type: prefs.getIntPref("network.proxy.type", -1),'
    '  http_proxy: prefs.getStringPref("network.proxy.http", "") + ":" + prefs.getIntPref("network.proxy.http_port", 0),'
    "  trusted: db.getCerts().filter(c => db.isCertTrusted(c, Ci.nsIX509Cert.CA_CERT, Ci.nsIX509CertDB.TRUSTED_SSL))"
    "                        .map(c => c.sha256Fingerprint),"
    "};"
)
try:
    port_file = os.path.join(profile, "MarionetteActivePort")
    while not os.path.exists(port_file):
        if firefox.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(json.dumps({"error": "Firefox did not start (exit %s)" % firefox.poll()}))
        time.sleep(0.2)
    time.sleep(0.1)
    with open(port_file) as written:
        port = int(written.read().strip())
    sock = socket.create_connection(("127.0.0.1", port), timeout=left())
    receive(sock)  # the handshake
    error, _ = command(sock, 1, "WebDriver:NewSession", {"acceptInsecureCerts": False})
    if error:
        raise SystemExit(json.dumps({"error": "no Marionette session: %s" % error}))
    command(sock, 2, "WebDriver:SetTimeouts", {"pageLoad": 30000, "script": 10000})
    error, _ = command(sock, 3, "Marionette:SetContext", {"value": "chrome"})
    if error:
        raise SystemExit(json.dumps({"error": "no chrome context: %s" % error}))
    for attempt in range(20):  # the policy engine starts while the first window opens
        error, state = command(sock, 4 + attempt, "WebDriver:ExecuteScript", {"script": STATE, "args": []})
        result = state["value"] if not error else {"error": error}
        # -1: not read yet; 0 (inactive) or 2 (failed) is final
        if error or result["policies"] != -1 or time.monotonic() > deadline - 40:
            break
        time.sleep(0.5)
    if "error" not in result:
        command(sock, 30, "Marionette:SetContext", {"value": "content"})
        error, _ = command(sock, 31, "WebDriver:Navigate", {"url": url})
        result["navigate_error"] = ("%s %s" % (error.get("error", ""), error.get("message", "")[:200])) if error else ""
    try:
        command(sock, 33, "Marionette:Quit", {"flags": ["eForceQuit"]})
    except (OSError, EOFError):
        pass
finally:
    try:
        firefox.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(firefox.pid, signal.SIGKILL)
        firefox.wait()
    shutil.rmtree(home, ignore_errors=True)
print(json.dumps(result))
'''


def firefox_state(host, url: str) -> dict:
    """Firefox's own view, in a fresh profile on `host`: {"policies": 1 when the policy engine is
    active (nsIEnterprisePolicies.ACTIVE), "bookmarks" (the URLs of the active ManagedBookmarks
    policy), "homepage", "homepage_locked", "app_update_allowed", "proxy_type" (1: manual),
    "http_proxy" ("host:port"), "trusted" (SHA-256 fingerprints, "AB:CD:...", of the certificates
    Firefox trusts as CAs for TLS servers), "navigate_error" (empty when
    `url` opened; Marionette's error, e.g. "insecure certificate", when not)} or
    {"error": ...} when Firefox could not be asked. Takes a few seconds (Firefox starts)."""
    result = host.run(f"timeout -k 5 120 python3 -c {shlex.quote(PROBE)} {shlex.quote(url)}")
    output = result.stdout.strip().splitlines()
    if result.rc != 0 or not output:
        return {"error": f"exit {result.rc}: {(result.stderr or result.stdout).strip()[-300:]}"}
    return json.loads(output[-1])
