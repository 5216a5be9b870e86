# syntax=docker/dockerfile:1
# The pdm services (api, worker, migrate, ...): one image, the command picks the service.
#   docker build -t pdm-maintenance .
#   docker run --rm pdm-maintenance --help

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1

RUN python -m venv /opt/venv

WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
COPY streams ./streams
COPY projections ./projections
COPY migrations ./migrations

# The wheel carries src/pdm, streams, projections and migrations (as pdm/_migrations);
# installing it, not the source tree, proves the packaged layout is the one that runs.
RUN --mount=type=cache,target=/root/.cache/pip \
    python -m pip wheel --no-deps --wheel-dir /wheels . \
 && /opt/venv/bin/pip install /wheels/*.whl


FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="pdm-maintenance" \
      org.opencontainers.image.description="Event-sourced predictive-maintenance backend" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN groupadd --system --gid 10001 pdm \
 && useradd --system --uid 10001 --gid pdm --home-dir /var/lib/pdm --no-create-home \
        --shell /usr/sbin/nologin pdm \
 && install -d -o pdm -g pdm -m 0750 /var/lib/pdm

COPY --from=builder /opt/venv /opt/venv

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PDM_ENVIRONMENT=production \
    PDM_DATA_DIR=/var/lib/pdm

USER 10001:10001
WORKDIR /var/lib/pdm

EXPOSE 8000 6066

ENTRYPOINT ["pdm"]
CMD ["api"]
