"""The server certificate of ``clio-mock serve --tls`` and of the forward proxy's tunnels."""

from __future__ import annotations

import ssl
from pathlib import Path

from mockserver.config import Settings
from mockserver.engine.errors import ClioError
from mockserver.serving.ca import CertFiles, LocalCA
from mockserver.serving.hosts import certificate_hosts
from mockserver.spec.index import SpecIndex


def certificate_files(settings: Settings, index: SpecIndex) -> CertFiles:
    """``--tls-cert``/``--tls-key`` when given, else a certificate from the local CA for Clio's hosts,
    the loopback names and the ``--tls-host`` names."""
    if settings.tls_cert or settings.tls_key:
        if not (settings.tls_cert and settings.tls_key):
            raise ClioError(400, "InvalidSetting", "--tls-cert and --tls-key go together")
        return CertFiles(Path(settings.tls_cert).expanduser(), Path(settings.tls_key).expanduser())
    return LocalCA().leaf(certificate_hosts(index, settings.tls_host))


def server_context(files: CertFiles) -> ssl.SSLContext:
    """A TLS server context for ``files`` (TLS 1.2 or later, HTTP/1.1 by ALPN)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(files.cert), str(files.key))
    except (OSError, ssl.SSLError) as exc:
        raise ClioError(400, "InvalidSetting", f"cannot use the certificate {files.cert} with key {files.key}: {exc}") from None
    context.set_alpn_protocols(["http/1.1"])
    return context
