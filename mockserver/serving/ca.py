"""A local certificate authority, one per cache directory, that signs certificates for Clio's hosts.

Clients trust it through the usual variables (``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``,
``NODE_EXTRA_CA_CERTS``, ``CURL_CA_BUNDLE``); ``clio-mock ca path`` prints the file. The CA's private
key is written once, mode 0600, in ``<cache dir>/tls/`` and is read from there only to sign leaf
certificates: it is never copied, logged or served. Built on ``cryptography`` (ECDSA P-256: small
keys, fast handshakes, accepted by OpenSSL, Node, curl and browsers).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import ipaddress
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mockserver.spec.source import cache_dir

CA_NAME = "clio-mock local CA"
CA_DAYS = 3650
LEAF_DAYS = 397  # the longest validity browsers accept for a server certificate
RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class CertFiles:
    """A certificate (PEM) and its private key (PEM, mode 0600) on disk."""

    cert: Path
    key: Path


class LocalCA:
    """The CA of one cache directory: created on first use, reused after."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else cache_dir() / "tls"
        self.cert_path = self.directory / "clio-mock-ca.pem"
        self.key_path = self.directory / "clio-mock-ca-key.pem"

    def ensure(self) -> Path:
        """The CA certificate file, creating the CA if there is none yet."""
        with self._locked():
            if not (self.cert_path.exists() and self.key_path.exists()):
                self._create()
            elif stat.S_IMODE(self.key_path.stat().st_mode) & 0o077:  # widened by hand: narrow it again
                os.chmod(self.key_path, 0o600)
        return self.cert_path

    def certificate(self) -> x509.Certificate:
        self.ensure()
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    def leaf(self, hosts: Iterable[str]) -> CertFiles:
        """A server certificate for ``hosts`` (DNS names and IP addresses) signed by this CA,
        cached beside it and renewed when it nears expiry."""
        names = sorted({h.strip().lower().strip("[]") for h in hosts if h and h.strip()})
        if not names:
            raise ValueError("a certificate needs at least one host name")
        ca_cert = self.certificate()
        digest = hashlib.sha256(ca_cert.fingerprint(hashes.SHA256()) + "\n".join(names).encode()).hexdigest()[:16]
        files = CertFiles(self.directory / f"server-{digest}.pem", self.directory / f"server-{digest}-key.pem")
        with self._locked():
            if not _fresh(files):
                self._issue(ca_cert, names, files)
        return files

    # ------------------------------------------------------------------ internals

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One process at a time creates files here (two ``serve`` started at once share one CA)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(self.directory, 0o700)
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; first use from two processes at once may race
            yield
            return
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _create(self) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "clio-mock (local development only)")])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        _write_private(self.key_path, _key_pem(key))  # the key first: a certificate without it is useless
        _write_public(self.cert_path, cert.public_bytes(serialization.Encoding.PEM))

    def _issue(self, ca_cert: x509.Certificate, names: list[str], files: CertFiles) -> None:
        ca_key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        key = ec.generate_private_key(ec.SECP256R1())
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=LEAF_DAYS))
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False, crl_sign=False,
                                         content_commitment=False, data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        _write_private(files.key, _key_pem(key))
        _write_public(files.cert, cert.public_bytes(serialization.Encoding.PEM))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _fresh(files: CertFiles) -> bool:
    if not (files.cert.exists() and files.key.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    except ValueError:
        return False
    return cert.not_valid_after_utc - _now() > RENEW_BEFORE


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _write_private(path: Path, data: bytes) -> None:
    """Write a key readable by its owner only: created 0600 (never briefly wider), then renamed in."""
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600) if hasattr(os, "fchmod") else None
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _write_public(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
