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
import json, os, shutil, socket, subprocess, sys, tempfile, time
url = sys.argv[1]
home = tempfile.mkdtemp(prefix="unitctl-firefox-")
profile = os.path.join(home, "profile")
os.mkdir(profile)
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
with open(os.path.join(profile, "user.js"), "w") as prefs:
    prefs.write('user_pref("marionette.port", %d);\n' % port)
env = dict(os.environ, HOME=home, MOZ_HEADLESS="1")
# --remote-allow-system-access: Firefox 138 and later run chrome-context scripts only with it
firefox = subprocess.Popen(["firefox-esr", "--headless", "--marionette", "--remote-allow-system-access",
                            "--no-remote", "--profile", profile],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
result = {}


def receive(sock):
    size = b""
    while not size.endswith(b":"):
        size += sock.recv(1)
    size = int(size[:-1])
    data = b""
    while len(data) < size:
        data += sock.recv(size - len(data))
    return json.loads(data)


def command(sock, ident, name, params):
    body = json.dumps([0, ident, name, params]).encode()
    sock.sendall(str(len(body)).encode() + b":" + body)
    answer = receive(sock)
    return answer[2], answer[3]   # error, result


STATE = """
const db = Cc["@mozilla.org/security/x509certdb;1"].getService(Ci.nsIX509CertDB);
const prefs = Services.prefs;
return {
  policies: Services.policies.status,
  homepage: prefs.getStringPref("browser.startup.homepage", ""),
  homepage_locked: prefs.prefIsLocked("browser.startup.homepage"),
  app_update_allowed: Services.policies.isAllowed("appUpdate"),
  proxy_type: prefs.getIntPref("network.proxy.type", -1),
  http_proxy: prefs.getStringPref("network.proxy.http", "") + ":" + prefs.getIntPref("network.proxy.http_port", 0),
  fingerprints: db.getCerts().map(c => c.sha256Fingerprint),
};
"""
try:
    deadline = time.monotonic() + 60
    while True:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=60)
            break
        except OSError:
            if firefox.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(json.dumps({"error": "Firefox did not start (exit %s)" % firefox.poll()}))
            time.sleep(0.2)
    receive(sock)  # the handshake
    command(sock, 1, "WebDriver:NewSession", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": False}}})
    error, _ = command(sock, 2, "Marionette:SetContext", {"value": "chrome"})
    if error:
        raise SystemExit(json.dumps({"error": "no chrome context: %s" % error}))
    for attempt in range(20):  # policies apply while the first window opens
        error, state = command(sock, 3 + attempt, "WebDriver:ExecuteScript", {"script": STATE, "args": []})
        result = state["value"] if not error else {"error": error}
        if error or result["policies"] == 1:
            break
        time.sleep(0.5)
    command(sock, 30, "Marionette:SetContext", {"value": "content"})
    error, _ = command(sock, 31, "WebDriver:Navigate", {"url": url})
    result["navigate_error"] = (error or {}).get("error", "") + " " + (error or {}).get("message", "")[:200] \
        if error else ""
    if not error:
        _, title = command(sock, 32, "WebDriver:GetTitle", {})
        result["title"] = title["value"]
    try:
        command(sock, 33, "Marionette:Quit", {"flags": ["eForceQuit"]})
    except OSError:
        pass
finally:
    try:
        firefox.wait(timeout=20)
    except subprocess.TimeoutExpired:
        firefox.kill()
    shutil.rmtree(home, ignore_errors=True)
print(json.dumps(result))
'''


def firefox_state(host, url: str) -> dict:
    """Firefox's own view, in a fresh profile on `host`: {"policies": 1 when the policy engine is
    active (nsIEnterprisePolicies.ACTIVE), "homepage", "homepage_locked", "app_update_allowed",
    "proxy_type" (1: manual), "http_proxy" ("host:port"), "fingerprints" (SHA-256, "AB:CD:...", of
    every certificate in Firefox's store), "navigate_error" (empty when
    `url` opened; Marionette's error, e.g. "insecure certificate", when not), "title"} or
    {"error": ...} when Firefox could not be asked. Takes a few seconds (Firefox starts)."""
    result = host.run(f"timeout 120 python3 -c {shlex.quote(PROBE)} {shlex.quote(url)}")
    output = result.stdout.strip().splitlines()
    if result.rc != 0 or not output:
        return {"error": f"exit {result.rc}: {(result.stderr or result.stdout).strip()[-300:]}"}
    return json.loads(output[-1])
