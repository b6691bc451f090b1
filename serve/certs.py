"""Create a self-signed HTTPS certificate for serving the app to other devices on the local network.

Browsers give a page the camera only over HTTPS (or on localhost), so a phone or laptop that opens the
app at ``http://192.168.x.y:8501`` cannot use its webcam. ``make run-https`` runs this script, then
``streamlit run`` with ``server.sslCertFile``/``server.sslKeyFile`` pointing at the files written here.

The certificate is made locally with the ``cryptography`` package (installed with aiortc): nothing is
downloaded, no certificate authority is involved. It names ``localhost``, this computer's host name
and every IPv4 address it has, and is made again when missing, expiring within a week, or when the
computer's addresses changed. Browsers warn once that they do not know who signed it: accept it for
this address (the traffic is still encrypted).

    python -m serve.certs [--out .certs] [--force]     # prints the two file paths
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import socket
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / ".certs"
CERT_NAME, KEY_NAME = "cert.pem", "key.pem"
VALID_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=7)


def local_addresses() -> list[str]:
    """This computer's IPv4 addresses (loopback included), as other devices on the LAN reach it."""
    found = {"127.0.0.1"}
    try:  # Linux: every address of every interface
        out = subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=5).stdout
        found.update(a for a in out.split() if _is_ipv4(a))
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        found.update(a for a in socket.gethostbyname_ex(socket.gethostname())[2] if _is_ipv4(a))
    except OSError:
        pass
    try:  # the address of the default route (no packet is sent by connect() on UDP)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed, only used to pick the interface
            found.add(s.getsockname()[0])
    except OSError:
        pass
    return sorted(found, key=lambda a: ipaddress.ip_address(a))


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False


def wanted_names() -> tuple[list[str], list[str]]:
    """(DNS names, IP addresses) the certificate must cover."""
    host = socket.gethostname()
    dns = sorted({"localhost", host, f"{host}.local"} - {""})
    return dns, local_addresses()


def make_certificate(dns: list[str], ips: list[str]) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM): a self-signed ECDSA P-256 server certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "FER dashboard (self-signed, local network)")])
    now = dt.datetime.now(dt.UTC)
    alt_names = [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def still_good(cert_path: Path, dns: list[str], ips: list[str]) -> bool:
    """True when the existing certificate covers these names and is not about to expire."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    covered_dns = set(sans.get_values_for_type(x509.DNSName))
    covered_ips = {str(a) for a in sans.get_values_for_type(x509.IPAddress)}
    fresh = cert.not_valid_after_utc - dt.datetime.now(dt.UTC) > RENEW_BEFORE
    return fresh and set(dns) <= covered_dns and set(ips) <= covered_ips


def ensure_certificate(out: Path, force: bool = False) -> tuple[Path, Path]:
    """The certificate and key paths under ``out``, (re)made when needed. The key is readable by the owner only."""
    cert_path, key_path = out / CERT_NAME, out / KEY_NAME
    dns, ips = wanted_names()
    if force or not key_path.is_file() or not still_good(cert_path, dns, ips):
        cert_pem, key_pem = make_certificate(dns, ips)
        out.mkdir(parents=True, exist_ok=True)
        key_path.touch(mode=0o600)
        key_path.chmod(0o600)
        key_path.write_bytes(key_pem)
        cert_path.write_bytes(cert_pem)
        print(f"made a self-signed certificate for {', '.join(dns + ips)}", file=sys.stderr)
    return cert_path, key_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for cert.pem and key.pem")
    parser.add_argument("--force", action="store_true", help="make a new certificate even if the old one is fine")
    args = parser.parse_args(argv)
    cert_path, key_path = ensure_certificate(args.out, args.force)
    _, ips = wanted_names()
    print(cert_path)
    print(key_path)
    lan = [ip for ip in ips if not ipaddress.ip_address(ip).is_loopback]
    if lan:
        print(f"open https://{lan[0]}:8501 on the other device (accept the certificate warning once)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
