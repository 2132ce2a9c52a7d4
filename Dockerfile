# mockgateway: the mock 資格確認端末 (folders, convenience route, Web API over TLS, admin API).
#   docker build -t mockgateway .
#   docker run --rm -p 127.0.0.1:8080:8080 -p 127.0.0.1:8443:8443 -p 127.0.0.1:8444:8444 -v "$PWD/var/oqs:/oqs" mockgateway
# The folder root /oqs (req/ res/ face/ trash/, the SQLite file, the test PKI) is meant to be a
# mounted host folder that the software under test watches. See compose.yaml and docs/vendor-guide.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A CJK font for the 医療情報 PDF results (otherwise they answer MGW9501).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-ipaexfont-gothic \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mockgateway ./mockgateway
COPY fixtures ./fixtures
# Editable, so the shipped personas (fixtures/default) stay where the package expects them.
RUN pip install --no-cache-dir -e . \
    && useradd --uid 1000 --create-home oqs \
    && mkdir -p /oqs && chown oqs:oqs /oqs

USER oqs
VOLUME ["/oqs"]
EXPOSE 8080 8443 8444
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]

# 0.0.0.0 so the published ports reach it. The admin API still answers loopback clients only:
# use it from inside the container (docker compose exec mockgateway …) or run the gateway on the host.
ENTRYPOINT ["mockgateway", "serve", "--root", "/oqs", "--host", "0.0.0.0", "--fixtures", "/app/fixtures/default"]
CMD ["--http-port", "8080", "--tls-port", "8443", "--search-port", "8444"]
