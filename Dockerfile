# mockgateway: the mock 資格確認端末 (folders, convenience route, Web API over TLS, admin API),
# installed from the wheel, so the image holds exactly the package that was built and tested.
#   python -m build                      # dist/mockgateway-<version>-py3-none-any.whl (CI: the tested one)
#   docker build -t mockgateway .        # installs dist/'s wheel; without dist/ it builds one first
#   docker compose up -d                 # compose.yaml: ./var/oqs mounted as the folder root
# The folder root /oqs (req/ res/ face/ trash/, the SQLite file, the test PKI) is meant to be a
# mounted host folder that the software under test watches. See docs/vendor-guide.md.

FROM python:3.11-slim AS wheel
WORKDIR /src
# Only pyproject.toml, README.md, mockgateway/ and dist/ get here (.dockerignore).
COPY . .
RUN set -e; mkdir /wheel; \
    found="$(ls -t dist/mockgateway-*.whl 2>/dev/null | head -n 1)"; \
    if [ -n "$found" ]; then cp "$found" /wheel/; \
    else pip wheel --no-cache-dir --no-deps --wheel-dir /wheel .; fi

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A CJK font for the 医療情報 PDF results (otherwise they answer MGW9501).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-ipaexfont-gothic \
    && rm -rf /var/lib/apt/lists/*

COPY --from=wheel /wheel /tmp/wheel
# The personas, the catalogue and every other resource are package data in the wheel.
RUN pip install --no-cache-dir /tmp/wheel/mockgateway-*.whl \
    && rm -rf /tmp/wheel \
    && useradd --uid 1000 --create-home oqs \
    && mkdir -p /oqs && chown oqs:oqs /oqs

USER oqs
WORKDIR /home/oqs
VOLUME ["/oqs"]
# 8080: convenience route /oqs/{API_ID}, /health, admin API (loopback only: use `docker compose exec`);
# 8443: Web API login host (TLS, client certificate); 8444: Web API search host (TLS; login port + 1).
EXPOSE 8080 8443 8444
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2)"]

# 0.0.0.0 so the published ports reach it. The admin API still answers loopback clients only:
# use it from inside the container (docker compose exec mockgateway mockgateway …) or run on the host.
ENTRYPOINT ["mockgateway", "serve", "--root", "/oqs", "--host", "0.0.0.0"]
CMD ["--http-port", "8080", "--tls-port", "8443"]
