"""The lab's province CA and the certificate of the lab's stand-in CMS.

A real province has its own CA (its certificate is policy: `province_ca_certificates`, the key never
leaves the province's PKI). The lab makes a small one of its own, once, in its state directory
(root only, never in the checkout, never committed), and a server certificate for the stand-in CMS
served by the centre host (roles/cms_standin):

    /var/lib/unitlab/ca/province-ca.crt    the lab province CA (public; workstations trust it)
    /var/lib/unitlab/ca/province-ca.key    its key (0600)
    /var/lib/unitlab/ca/cms.crt            the CMS server certificate, signed by the CA
    /var/lib/unitlab/ca/cms.key            its key (0600)

Each server also gets a certificate for the log transport (roles/log_forwarding, log_collector:
mutual TLS between the unit servers and the centre's collector), made by `host_certificate` and
kept, with its key, in the lab's service secrets vault (unitctl.lab.services), as a real province
keeps each unit's in that unit's vault.
The CMS certificate names every DNS name in `CMS_NAMES` (the lab's CMS URL host, see
inventory/group_vars/lab/cms.yml) and is remade when those names change or it nears expiry.

    python -m unitctl.lab.ca           # idempotent; prints "made" when it wrote anything
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from unitctl import paths
from unitctl.lab import secrets as labsecrets

# The stand-in CMS answers under these names (the lab's province_cms_url uses the first).
CMS_NAMES = ("cms.lab.internal", "centre-srv.centre.lab.internal", "centre-srv")
CMS_ADDRESSES = ("10.213.10.10",)
CA_NAME = "Lab province CA (unitctl lab, not for production)"
CA_DAYS = 3650
CERT_DAYS = 825
RENEW_BEFORE_DAYS = 30


def ca_dir() -> Path:
    return paths.LAB_STATE_DIR / "ca"


def ca_cert_path() -> Path:
    return ca_dir() / "province-ca.crt"


def ca_key_path() -> Path:
    return ca_dir() / "province-ca.key"


def cms_cert_path() -> Path:
    return ca_dir() / "cms.crt"


def cms_key_path() -> Path:
    return ca_dir() / "cms.key"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _make_ca() -> None:
    key = _new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "unitctl lab")])
    now = _now()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    labsecrets.write_private(ca_key_path(), _key_pem(key))
    ca_cert_path().write_text(_cert_pem(cert))
    ca_cert_path().chmod(0o644)


def _is_current(cert: x509.Certificate, ca: x509.Certificate, dns_names, addresses=None) -> bool:
    """Whether `cert` is signed by `ca`, names exactly these DNS names (and IP `addresses`, unless
    None) and is far from expiry."""
    try:
        cert.verify_directly_issued_by(ca)
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except Exception:  # noqa: BLE001  (signed by an older CA, or no names: remake)
        return False
    if set(names.get_values_for_type(x509.DNSName)) != set(dns_names):
        return False
    if addresses is not None and {str(a) for a in names.get_values_for_type(x509.IPAddress)} != set(addresses):
        return False
    return cert.not_valid_after_utc - _now() > dt.timedelta(days=RENEW_BEFORE_DAYS)


def _issue(ca: x509.Certificate, ca_key, common_name: str, dns_names, addresses, usages) -> tuple[x509.Certificate, str]:
    """A certificate signed by the CA with a new key: (certificate, key PEM). `usages` are
    extended key usages (ExtendedKeyUsageOID)."""
    key = _new_key()
    now = _now()
    alt = [x509.DNSName(name) for name in dns_names] + [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CERT_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert, _key_pem(key)


def _load_ca() -> tuple[x509.Certificate, object]:
    return (x509.load_pem_x509_certificate(ca_cert_path().read_bytes()),
            serialization.load_pem_private_key(ca_key_path().read_bytes(), password=None))


def _cms_is_current(ca: x509.Certificate) -> bool:
    if not (cms_cert_path().exists() and cms_key_path().exists()):
        return False
    return _is_current(x509.load_pem_x509_certificate(cms_cert_path().read_bytes()), ca, CMS_NAMES)


def _make_cms() -> None:
    cert, key = _issue(*_load_ca(), CMS_NAMES[0], CMS_NAMES, CMS_ADDRESSES, [ExtendedKeyUsageOID.SERVER_AUTH])
    labsecrets.write_private(cms_key_path(), key)
    cms_cert_path().write_text(_cert_pem(cert))
    cms_cert_path().chmod(0o644)


def host_certificate(name: str, dns_names: list[str], addresses: list[str]) -> dict[str, str]:
    """A certificate of the lab CA for one host, for TLS as server and as client.

    Shape: {"certificate": PEM, "key": PEM}; the subject's common name is `name`, the subject
    alternative names are `dns_names` and the IP `addresses` (a client that connects by address,
    such as systemd-journal-upload, checks it there). Makes the CA first if missing."""
    ensure_lab_ca()
    cert, key = _issue(*_load_ca(), name, dns_names, addresses,
                       [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH])
    return {"certificate": _cert_pem(cert), "key": key}


def host_certificate_is_current(pem: str, dns_names: list[str], addresses: list[str]) -> bool:
    """Whether `pem` is signed by the current lab CA, names exactly these and is far from expiry."""
    if not ca_cert_path().exists():
        return False
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:  # unreadable (or empty): remake
        return False
    return _is_current(cert, x509.load_pem_x509_certificate(ca_cert_path().read_bytes()), dns_names, addresses)


def ensure_lab_ca() -> bool:
    """Make the CA and the CMS certificate if missing or stale; True when anything was written."""
    made = False
    ca_dir().mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (ca_cert_path().exists() and ca_key_path().exists()):
        _make_ca()
        made = True
    if not _cms_is_current(x509.load_pem_x509_certificate(ca_cert_path().read_bytes())):
        _make_cms()
        made = True
    return made


if __name__ == "__main__":
    print("made" if ensure_lab_ca() else "current", ca_dir())
