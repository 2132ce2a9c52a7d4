"""The public path of the 医療機関 test PKI (docs/pki.md, docs/vendor-guide.md): `mockgateway.pki.TestPKI`.

The code lives in mockgateway/certs/institution_pki.py; this module keeps the documented import
path working.
"""

from mockgateway.certs.institution_pki import (
    CLIENT_STATUSES,
    ClientCertificate,
    ClientStatus,
    PKIError,
    TestPKI,
    medical_institution_code,
    validate_medical_institution_code,
)

__all__ = [
    "CLIENT_STATUSES",
    "ClientCertificate",
    "ClientStatus",
    "PKIError",
    "TestPKI",
    "medical_institution_code",
    "validate_medical_institution_code",
]
